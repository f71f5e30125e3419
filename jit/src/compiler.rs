//! The ISA-independent compiler: one pass over a function's register bytecode, driving a
//! [`Backend`].
//!
//! Values stay in their frame cells, so every instruction boundary is consistent with the
//! interpreter's view of the frame: a step exit (calls, `memory.grow`, table operations:
//! the instructions `gloam_interp::native::steppable` accepts) needs no spilling, and the
//! stack maps of the translator describe native frames too.
//!
//! Fuel and epoch checks (`consume_fuel`, `check_epoch`, `check_epoch_consume_fuel`) are
//! compiled inline on the store's counters; an epoch check that finds the deadline
//! reached takes a step exit for its instruction (the executor runs the interpreter's
//! handler: trap or deadline callback) and native code resumes right after it.

use crate::backend::{
    Addr, Backend, Cond, DivOp, FloatCond, FloatOp, IntOp, IntUnOp, Load, Rhs, Width,
};
use crate::helpers::helper;
use gloam_interp::Module;
use gloam_interp::Trap;
use gloam_interp::native::{is_operand_word, steppable};
use gloam_interp::ops::{CellVisitor, Instr};
use gloam_interp::translate::CompiledFunc;

/// Compiles `func` (a function of `module`) with backend `b`, or says why not
/// (`"unsupported: MNEMONIC"`).
pub fn compile<B: Backend>(b: &mut B, module: &Module, func: &CompiledFunc) -> Result<(), String> {
    let code = &func.code;
    if !func.handlers.is_empty() {
        // The executor unwinds to handlers and lands on their labels in interpreted code.
        return Err("unsupported: try_table (exception handlers stay interpreted)".into());
    }
    if code.len() >= u32::MAX as usize {
        return Err("function too large".into());
    }
    // Labels for every branch target; loops (backward branches) for pinning.
    let mut labels: Vec<Option<B::Label>> = vec![None; code.len()];
    let mut loops = Vec::new();
    let mut direct_calls = 0;
    for (pc, instr) in code.iter().enumerate() {
        if direct_callee(module, instr).is_some() {
            direct_calls += 1;
        }
        if let Instr::BrTable { len, .. } = instr {
            // `br_table` jumps to one of the `len + 1` instructions that follow it (usually
            // `br`s, sometimes a `return` the translator put in place of a `br`).
            for entry in pc + 1..=pc + 1 + *len as usize {
                let slot = labels.get_mut(entry).ok_or("malformed br_table")?;
                if slot.is_none() {
                    *slot = Some(b.new_label());
                }
            }
        }
        if let Some(t) = branch_target(instr) {
            if t.0 as usize <= pc {
                loops.push((t.0 as usize, pc));
            }
            let slot = labels
                .get_mut(t.0 as usize)
                .ok_or_else(|| format!("branch target {} out of range", t.0))?;
            if slot.is_none() {
                *slot = Some(b.new_label());
            }
        }
    }
    let label = |labels: &[Option<B::Label>], t: gloam_interp::ops::Target| {
        labels[t.0 as usize].ok_or_else(|| "missing label".to_string())
    };

    let locals_end = func.param_cells as usize + func.local_cells as usize + func.consts.len();
    if locals_end > func.frame_size as usize {
        return Err("malformed frame layout".into());
    }
    if !loops.is_empty() {
        b.pin_cells(&rank_cells(func, &loops));
    }
    b.direct_call_sites(direct_calls);
    b.direct_entry(func.param_cells, func.local_cells, &func.consts);
    b.resume_point(0);
    let mut pc = 0usize;
    while pc < code.len() {
        let instr = code[pc];
        let at = pc as u32;
        if let Some(l) = labels[pc] {
            b.bind(l);
        }
        b.mark(at);
        pc += 1;
        if is_operand_word(&instr) {
            continue;
        }
        if let Some((w, c, a, rhs, t)) = br_cmp(&instr) {
            b.br_cmp(w, c, a, rhs, label(&labels, t)?);
            continue;
        }
        if lower(b, &instr, at)? {
            continue;
        }
        // Calls of the module's own functions may stay in native code.
        if let Some((def, base)) = direct_callee(module, &instr) {
            while pc < code.len() && is_operand_word(&code[pc]) {
                pc += 1;
            }
            b.call_direct(def, base, pc as u32, at);
            b.resume_point(pc as u32);
            continue;
        }
        if let Some((h, dst, x, y)) = helper(&instr) {
            b.call_helper(h, dst, x, y, at);
            continue;
        }
        match instr {
            Instr::Unreachable {} => b.trap(Trap::UnreachableCodeReached, at),
            Instr::Br { target } => b.jump(label(&labels, target)?),
            Instr::BrIfNez { cond, target } => b.br_if(cond.0, true, label(&labels, target)?),
            Instr::BrIfEqz { cond, target } => b.br_if(cond.0, false, label(&labels, target)?),
            Instr::BrTable { index, len } => {
                // Jump to the entry, or straight to its target if it is a `br`.
                let mut targets = Vec::with_capacity(len as usize + 1);
                for entry in pc..=pc + len as usize {
                    targets.push(match code[entry] {
                        Instr::Br { target } => label(&labels, target)?,
                        _ => labels[entry].ok_or("malformed br_table")?,
                    });
                }
                b.br_table(index.0, &targets);
            }
            Instr::Return {} => b.ret(0, 0),
            Instr::Return1 { src } => b.ret(src.0, 1),
            Instr::ReturnSpan { start, len } => b.ret(start.0, len),
            // Fuel and epochs (before `steppable`, which accepts the epoch checks for their
            // slow path).
            Instr::ConsumeFuel { amount } => b.consume_fuel(amount, at),
            Instr::CheckEpoch {} => {
                b.check_epoch(at);
                b.resume_point(pc as u32);
            }
            Instr::FuelEpoch { amount } => {
                b.check_epoch_consume_fuel(amount, at);
                b.resume_point(pc as u32);
            }
            // Loop on-stack replacement: the interpreter enters native code here.
            Instr::LoopHeader {} => b.resume_point(at),
            i if steppable(&i) => {
                b.step(at);
                // Resume after the operand words the executor's handler consumed.
                while pc < code.len() && is_operand_word(&code[pc]) {
                    pc += 1;
                }
                b.resume_point(pc as u32);
            }
            i => return Err(format!("unsupported: {}", i.mnemonic())),
        }
    }
    Ok(())
}

/// The defined-function index and frame base of a call of one of the module's own
/// functions (a candidate for a direct call), if `instr` is one.
fn direct_callee(module: &Module, instr: &Instr) -> Option<(u32, u16)> {
    match *instr {
        Instr::Call { func, base } => func
            .checked_sub(module.num_imported_funcs)
            .map(|def| (def, base.0)),
        _ => None,
    }
}

/// The cells worth keeping in registers, hottest first, each with whether it holds
/// floats: the cells used inside `loops` (`(head, back edge)` code ranges), weighted by
/// loop depth.
fn rank_cells(func: &CompiledFunc, loops: &[(usize, usize)]) -> Vec<(u16, bool)> {
    let code = &func.code;
    // Loop depth at each instruction, from +1/-1 marks at loop starts and ends.
    let mut marks = vec![0i32; code.len() + 1];
    for &(head, end) in loops {
        marks[head] += 1;
        marks[end + 1] -= 1;
    }
    // Per cell: (integer weight, float weight).
    let mut weights = vec![(0u64, 0u64); func.frame_size as usize];
    let mut depth = 0i32;
    for (pc, instr) in code.iter().enumerate() {
        depth += marks[pc];
        if depth <= 0 || is_operand_word(instr) {
            continue;
        }
        let w = 1u64 << (3 * depth.min(5));
        let floats = float_operands(instr);
        let mut copy = *instr;
        copy.visit_operands(&mut CellVisitor(|c: &mut u16| {
            if let Some(slot) = weights.get_mut(*c as usize) {
                if floats.contains(&Some(*c)) {
                    slot.1 += w;
                } else {
                    slot.0 += w;
                }
            }
        }));
    }
    let mut ranked: Vec<(u64, u16, bool)> = weights
        .iter()
        .enumerate()
        // Used at least twice in a loop.
        .filter(|(_, (i, f))| i + f >= 16)
        .map(|(c, &(i, f))| (i + f, c as u16, f > i))
        .collect();
    ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, c, f)| (c, f)).collect()
}

/// The cells of `instr` that hold floats (most float operations; the rest count as
/// integer cells, which only costs speed if wrong).
fn float_operands(instr: &Instr) -> [Option<u16>; 3] {
    use Instr::*;
    match *instr {
        F32Add { dst, a, b }
        | F32Sub { dst, a, b }
        | F32Mul { dst, a, b }
        | F32Div { dst, a, b }
        | F64Add { dst, a, b }
        | F64Sub { dst, a, b }
        | F64Mul { dst, a, b }
        | F64Div { dst, a, b }
        | F32Min { dst, a, b }
        | F32Max { dst, a, b }
        | F64Min { dst, a, b }
        | F64Max { dst, a, b }
        | F32Copysign { dst, a, b }
        | F64Copysign { dst, a, b } => [Some(dst.0), Some(a.0), Some(b.0)],
        F32Eq { a, b, .. }
        | F32Ne { a, b, .. }
        | F32Lt { a, b, .. }
        | F32Gt { a, b, .. }
        | F32Le { a, b, .. }
        | F32Ge { a, b, .. }
        | F64Eq { a, b, .. }
        | F64Ne { a, b, .. }
        | F64Lt { a, b, .. }
        | F64Gt { a, b, .. }
        | F64Le { a, b, .. }
        | F64Ge { a, b, .. } => [Some(a.0), Some(b.0), None],
        F32Sqrt { dst, src }
        | F64Sqrt { dst, src }
        | F32Abs { dst, src }
        | F64Abs { dst, src }
        | F32Neg { dst, src }
        | F64Neg { dst, src }
        | F32DemoteF64 { dst, src }
        | F64PromoteF32 { dst, src } => [Some(dst.0), Some(src.0), None],
        F32ConvertI32S { dst, .. }
        | F32ConvertI32U { dst, .. }
        | F32ConvertI64S { dst, .. }
        | F32ConvertI64U { dst, .. }
        | F64ConvertI32S { dst, .. }
        | F64ConvertI32U { dst, .. }
        | F64ConvertI64S { dst, .. }
        | F64ConvertI64U { dst, .. }
        | F32Load { dst, .. }
        | F32LoadAdd { dst, .. }
        | F64Load { dst, .. }
        | F64LoadAdd { dst, .. } => [Some(dst.0), None, None],
        F32Store { val, .. }
        | F32StoreAdd { val, .. }
        | F64Store { val, .. }
        | F64StoreAdd { val, .. } => [Some(val.0), None, None],
        _ => [None; 3],
    }
}

/// The branch target of `instr`, if it has one: the same as `Instr::target`, without its
/// walk over every operand (this runs once per instruction on every compile).
fn branch_target(instr: &Instr) -> Option<gloam_interp::ops::Target> {
    match *instr {
        Instr::Br { target } | Instr::BrIfNez { target, .. } | Instr::BrIfEqz { target, .. } => {
            Some(target)
        }
        _ => br_cmp(instr).map(|(.., t)| t),
    }
}

/// Lowers a plain data instruction; `Ok(false)` if `instr` is not one.
fn lower<B: Backend>(b: &mut B, instr: &Instr, pc: u32) -> Result<bool, String> {
    use Width::{W32, W64};
    macro_rules! table {
        ($($pat:ident { $($f:tt)* } => $body:expr,)*) => {
            match *instr {
                $(Instr::$pat { $($f)* } => $body,)*
                _ => return Ok(false),
            }
        };
    }
    macro_rules! bin {
        ($w:expr, $op:expr, $dst:expr, $a:expr, $b:expr) => {
            b.int_op($w, $op, $dst.0, $a.0, Rhs::Cell($b.0))
        };
    }
    macro_rules! bimm {
        ($w:expr, $op:expr, $dst:expr, $a:expr, $imm:expr) => {
            b.int_op($w, $op, $dst.0, $a.0, Rhs::Imm($imm))
        };
    }
    macro_rules! cmp {
        ($w:expr, $c:expr, $dst:expr, $a:expr, $b:expr) => {
            b.int_cmp($w, $c, $dst.0, $a.0, Rhs::Cell($b.0))
        };
    }
    macro_rules! cimm {
        ($w:expr, $c:expr, $dst:expr, $a:expr, $imm:expr) => {
            b.int_cmp($w, $c, $dst.0, $a.0, Rhs::Imm($imm))
        };
    }
    macro_rules! un {
        ($w:expr, $op:expr, $dst:expr, $src:expr) => {
            // Not inlined on this CPU (e.g. no `popcnt`): the helper does it.
            if !b.int_unop($w, $op, $dst.0, $src.0) {
                return Ok(false);
            }
        };
    }
    macro_rules! ld {
        ($n:expr, $s:expr, $w:expr, $dst:expr, $addr:expr) => {
            b.load(
                Load {
                    bytes: $n,
                    signed: $s,
                    width: $w,
                },
                $dst.0,
                $addr,
                pc,
            )
        };
    }
    let at = |base: gloam_interp::ops::Reg, offset: u32| Addr {
        base: base.0,
        add: 0,
        offset,
    };
    let wrapped = |base: gloam_interp::ops::Reg, add: u32| Addr {
        base: base.0,
        add,
        offset: 0,
    };
    use Cond::*;
    use IntOp::*;
    table! {
        Copy { dst, src } => b.copy(dst.0, src.0),
        Const32 { dst, value } => b.constant(dst.0, value as u64),
        Const64 { dst, lo, hi } => b.constant(dst.0, (hi as u64) << 32 | lo as u64),
        Select { dst, cond, a, b: bb } => b.select(dst.0, cond.0, a.0, bb.0),

        I32Eqz { dst, src } => un!(W32, IntUnOp::Eqz, dst, src),
        I64Eqz { dst, src } => un!(W64, IntUnOp::Eqz, dst, src),
        RefIsNull { dst, src } => un!(W64, IntUnOp::Eqz, dst, src),
        I32Clz { dst, src } => un!(W32, IntUnOp::Clz, dst, src),
        I32Ctz { dst, src } => un!(W32, IntUnOp::Ctz, dst, src),
        I32Popcnt { dst, src } => un!(W32, IntUnOp::Popcnt, dst, src),
        I64Clz { dst, src } => un!(W64, IntUnOp::Clz, dst, src),
        I64Ctz { dst, src } => un!(W64, IntUnOp::Ctz, dst, src),
        I64Popcnt { dst, src } => un!(W64, IntUnOp::Popcnt, dst, src),
        I32WrapI64 { dst, src } => un!(W32, IntUnOp::Low32, dst, src),
        I64ExtendI32U { dst, src } => un!(W64, IntUnOp::Low32, dst, src),
        I64ExtendI32S { dst, src } => un!(W64, IntUnOp::Extend32S, dst, src),
        I32Extend8S { dst, src } => un!(W32, IntUnOp::Extend8S, dst, src),
        I32Extend16S { dst, src } => un!(W32, IntUnOp::Extend16S, dst, src),
        I64Extend8S { dst, src } => un!(W64, IntUnOp::Extend8S, dst, src),
        I64Extend16S { dst, src } => un!(W64, IntUnOp::Extend16S, dst, src),
        I64Extend32S { dst, src } => un!(W64, IntUnOp::Extend32S, dst, src),

        I32Add { dst, a, b: y } => bin!(W32, Add, dst, a, y),
        I32Sub { dst, a, b: y } => bin!(W32, Sub, dst, a, y),
        I32Mul { dst, a, b: y } => bin!(W32, Mul, dst, a, y),
        I32And { dst, a, b: y } => bin!(W32, And, dst, a, y),
        I32Or { dst, a, b: y } => bin!(W32, Or, dst, a, y),
        I32Xor { dst, a, b: y } => bin!(W32, Xor, dst, a, y),
        I32Shl { dst, a, b: y } => bin!(W32, Shl, dst, a, y),
        I32ShrS { dst, a, b: y } => bin!(W32, ShrS, dst, a, y),
        I32ShrU { dst, a, b: y } => bin!(W32, ShrU, dst, a, y),
        I32Rotl { dst, a, b: y } => bin!(W32, Rotl, dst, a, y),
        I32Rotr { dst, a, b: y } => bin!(W32, Rotr, dst, a, y),
        I64Add { dst, a, b: y } => bin!(W64, Add, dst, a, y),
        I64Sub { dst, a, b: y } => bin!(W64, Sub, dst, a, y),
        I64Mul { dst, a, b: y } => bin!(W64, Mul, dst, a, y),
        I64And { dst, a, b: y } => bin!(W64, And, dst, a, y),
        I64Or { dst, a, b: y } => bin!(W64, Or, dst, a, y),
        I64Xor { dst, a, b: y } => bin!(W64, Xor, dst, a, y),
        I64Shl { dst, a, b: y } => bin!(W64, Shl, dst, a, y),
        I64ShrS { dst, a, b: y } => bin!(W64, ShrS, dst, a, y),
        I64ShrU { dst, a, b: y } => bin!(W64, ShrU, dst, a, y),
        I64Rotl { dst, a, b: y } => bin!(W64, Rotl, dst, a, y),
        I64Rotr { dst, a, b: y } => bin!(W64, Rotr, dst, a, y),
        I32Eq { dst, a, b: y } => cmp!(W32, Eq, dst, a, y),
        I32Ne { dst, a, b: y } => cmp!(W32, Ne, dst, a, y),
        I32LtS { dst, a, b: y } => cmp!(W32, LtS, dst, a, y),
        I32LtU { dst, a, b: y } => cmp!(W32, LtU, dst, a, y),
        I32GtS { dst, a, b: y } => cmp!(W32, GtS, dst, a, y),
        I32GtU { dst, a, b: y } => cmp!(W32, GtU, dst, a, y),
        I32LeS { dst, a, b: y } => cmp!(W32, LeS, dst, a, y),
        I32LeU { dst, a, b: y } => cmp!(W32, LeU, dst, a, y),
        I32GeS { dst, a, b: y } => cmp!(W32, GeS, dst, a, y),
        I32GeU { dst, a, b: y } => cmp!(W32, GeU, dst, a, y),
        I64Eq { dst, a, b: y } => cmp!(W64, Eq, dst, a, y),
        I64Ne { dst, a, b: y } => cmp!(W64, Ne, dst, a, y),
        I64LtS { dst, a, b: y } => cmp!(W64, LtS, dst, a, y),
        I64LtU { dst, a, b: y } => cmp!(W64, LtU, dst, a, y),
        I64GtS { dst, a, b: y } => cmp!(W64, GtS, dst, a, y),
        I64GtU { dst, a, b: y } => cmp!(W64, GtU, dst, a, y),
        I64LeS { dst, a, b: y } => cmp!(W64, LeS, dst, a, y),
        I64LeU { dst, a, b: y } => cmp!(W64, LeU, dst, a, y),
        I64GeS { dst, a, b: y } => cmp!(W64, GeS, dst, a, y),
        I64GeU { dst, a, b: y } => cmp!(W64, GeU, dst, a, y),

        I32AddImm { dst, a, imm } => bimm!(W32, Add, dst, a, imm),
        I32SubImm { dst, a, imm } => bimm!(W32, Sub, dst, a, imm),
        I32MulImm { dst, a, imm } => bimm!(W32, Mul, dst, a, imm),
        I32AndImm { dst, a, imm } => bimm!(W32, And, dst, a, imm),
        I32OrImm { dst, a, imm } => bimm!(W32, Or, dst, a, imm),
        I32XorImm { dst, a, imm } => bimm!(W32, Xor, dst, a, imm),
        I32ShlImm { dst, a, imm } => bimm!(W32, Shl, dst, a, imm),
        I32ShrSImm { dst, a, imm } => bimm!(W32, ShrS, dst, a, imm),
        I32ShrUImm { dst, a, imm } => bimm!(W32, ShrU, dst, a, imm),
        I32RotlImm { dst, a, imm } => bimm!(W32, Rotl, dst, a, imm),
        I32RotrImm { dst, a, imm } => bimm!(W32, Rotr, dst, a, imm),
        I64AddImm { dst, a, imm } => bimm!(W64, Add, dst, a, imm),
        I64SubImm { dst, a, imm } => bimm!(W64, Sub, dst, a, imm),
        I64MulImm { dst, a, imm } => bimm!(W64, Mul, dst, a, imm),
        I64AndImm { dst, a, imm } => bimm!(W64, And, dst, a, imm),
        I64OrImm { dst, a, imm } => bimm!(W64, Or, dst, a, imm),
        I64XorImm { dst, a, imm } => bimm!(W64, Xor, dst, a, imm),
        I64ShlImm { dst, a, imm } => bimm!(W64, Shl, dst, a, imm),
        I64ShrSImm { dst, a, imm } => bimm!(W64, ShrS, dst, a, imm),
        I64ShrUImm { dst, a, imm } => bimm!(W64, ShrU, dst, a, imm),
        I64RotlImm { dst, a, imm } => bimm!(W64, Rotl, dst, a, imm),
        I64RotrImm { dst, a, imm } => bimm!(W64, Rotr, dst, a, imm),
        I32EqImm { dst, a, imm } => cimm!(W32, Eq, dst, a, imm),
        I32NeImm { dst, a, imm } => cimm!(W32, Ne, dst, a, imm),
        I32LtSImm { dst, a, imm } => cimm!(W32, LtS, dst, a, imm),
        I32LtUImm { dst, a, imm } => cimm!(W32, LtU, dst, a, imm),
        I32GtSImm { dst, a, imm } => cimm!(W32, GtS, dst, a, imm),
        I32GtUImm { dst, a, imm } => cimm!(W32, GtU, dst, a, imm),
        I32LeSImm { dst, a, imm } => cimm!(W32, LeS, dst, a, imm),
        I32LeUImm { dst, a, imm } => cimm!(W32, LeU, dst, a, imm),
        I32GeSImm { dst, a, imm } => cimm!(W32, GeS, dst, a, imm),
        I32GeUImm { dst, a, imm } => cimm!(W32, GeU, dst, a, imm),
        I64EqImm { dst, a, imm } => cimm!(W64, Eq, dst, a, imm),
        I64NeImm { dst, a, imm } => cimm!(W64, Ne, dst, a, imm),
        I64LtSImm { dst, a, imm } => cimm!(W64, LtS, dst, a, imm),
        I64LtUImm { dst, a, imm } => cimm!(W64, LtU, dst, a, imm),
        I64GtSImm { dst, a, imm } => cimm!(W64, GtS, dst, a, imm),
        I64GtUImm { dst, a, imm } => cimm!(W64, GtU, dst, a, imm),
        I64LeSImm { dst, a, imm } => cimm!(W64, LeS, dst, a, imm),
        I64LeUImm { dst, a, imm } => cimm!(W64, LeU, dst, a, imm),
        I64GeSImm { dst, a, imm } => cimm!(W64, GeS, dst, a, imm),
        I64GeUImm { dst, a, imm } => cimm!(W64, GeU, dst, a, imm),

        I32DivS { dst, a, b: y } => b.int_div(W32, DivOp::DivS, dst.0, a.0, y.0, pc),
        I32DivU { dst, a, b: y } => b.int_div(W32, DivOp::DivU, dst.0, a.0, y.0, pc),
        I32RemS { dst, a, b: y } => b.int_div(W32, DivOp::RemS, dst.0, a.0, y.0, pc),
        I32RemU { dst, a, b: y } => b.int_div(W32, DivOp::RemU, dst.0, a.0, y.0, pc),
        I64DivS { dst, a, b: y } => b.int_div(W64, DivOp::DivS, dst.0, a.0, y.0, pc),
        I64DivU { dst, a, b: y } => b.int_div(W64, DivOp::DivU, dst.0, a.0, y.0, pc),
        I64RemS { dst, a, b: y } => b.int_div(W64, DivOp::RemS, dst.0, a.0, y.0, pc),
        I64RemU { dst, a, b: y } => b.int_div(W64, DivOp::RemU, dst.0, a.0, y.0, pc),

        I32Load { dst, addr, offset } => ld!(4, false, W32, dst, at(addr, offset)),
        I32LoadAdd { dst, addr, imm } => ld!(4, false, W32, dst, wrapped(addr, imm)),
        I64Load { dst, addr, offset } => ld!(8, false, W64, dst, at(addr, offset)),
        I64LoadAdd { dst, addr, imm } => ld!(8, false, W64, dst, wrapped(addr, imm)),
        F32Load { dst, addr, offset } => ld!(4, false, W32, dst, at(addr, offset)),
        F32LoadAdd { dst, addr, imm } => ld!(4, false, W32, dst, wrapped(addr, imm)),
        F64Load { dst, addr, offset } => ld!(8, false, W64, dst, at(addr, offset)),
        F64LoadAdd { dst, addr, imm } => ld!(8, false, W64, dst, wrapped(addr, imm)),
        I32Load8S { dst, addr, offset } => ld!(1, true, W32, dst, at(addr, offset)),
        I32Load8SAdd { dst, addr, imm } => ld!(1, true, W32, dst, wrapped(addr, imm)),
        I32Load8U { dst, addr, offset } => ld!(1, false, W32, dst, at(addr, offset)),
        I32Load8UAdd { dst, addr, imm } => ld!(1, false, W32, dst, wrapped(addr, imm)),
        I32Load16S { dst, addr, offset } => ld!(2, true, W32, dst, at(addr, offset)),
        I32Load16SAdd { dst, addr, imm } => ld!(2, true, W32, dst, wrapped(addr, imm)),
        I32Load16U { dst, addr, offset } => ld!(2, false, W32, dst, at(addr, offset)),
        I32Load16UAdd { dst, addr, imm } => ld!(2, false, W32, dst, wrapped(addr, imm)),
        I64Load8S { dst, addr, offset } => ld!(1, true, W64, dst, at(addr, offset)),
        I64Load8SAdd { dst, addr, imm } => ld!(1, true, W64, dst, wrapped(addr, imm)),
        I64Load8U { dst, addr, offset } => ld!(1, false, W64, dst, at(addr, offset)),
        I64Load8UAdd { dst, addr, imm } => ld!(1, false, W64, dst, wrapped(addr, imm)),
        I64Load16S { dst, addr, offset } => ld!(2, true, W64, dst, at(addr, offset)),
        I64Load16SAdd { dst, addr, imm } => ld!(2, true, W64, dst, wrapped(addr, imm)),
        I64Load16U { dst, addr, offset } => ld!(2, false, W64, dst, at(addr, offset)),
        I64Load16UAdd { dst, addr, imm } => ld!(2, false, W64, dst, wrapped(addr, imm)),
        I64Load32S { dst, addr, offset } => ld!(4, true, W64, dst, at(addr, offset)),
        I64Load32SAdd { dst, addr, imm } => ld!(4, true, W64, dst, wrapped(addr, imm)),
        I64Load32U { dst, addr, offset } => ld!(4, false, W64, dst, at(addr, offset)),
        I64Load32UAdd { dst, addr, imm } => ld!(4, false, W64, dst, wrapped(addr, imm)),
        I32Store { addr, val, offset } => b.store(4, at(addr, offset), val.0, pc),
        I32StoreAdd { addr, val, imm } => b.store(4, wrapped(addr, imm), val.0, pc),
        I64Store { addr, val, offset } => b.store(8, at(addr, offset), val.0, pc),
        I64StoreAdd { addr, val, imm } => b.store(8, wrapped(addr, imm), val.0, pc),
        F32Store { addr, val, offset } => b.store(4, at(addr, offset), val.0, pc),
        F32StoreAdd { addr, val, imm } => b.store(4, wrapped(addr, imm), val.0, pc),
        F64Store { addr, val, offset } => b.store(8, at(addr, offset), val.0, pc),
        F64StoreAdd { addr, val, imm } => b.store(8, wrapped(addr, imm), val.0, pc),
        I32Store8 { addr, val, offset } => b.store(1, at(addr, offset), val.0, pc),
        I32Store8Add { addr, val, imm } => b.store(1, wrapped(addr, imm), val.0, pc),
        I32Store16 { addr, val, offset } => b.store(2, at(addr, offset), val.0, pc),
        I32Store16Add { addr, val, imm } => b.store(2, wrapped(addr, imm), val.0, pc),
        I64Store8 { addr, val, offset } => b.store(1, at(addr, offset), val.0, pc),
        I64Store8Add { addr, val, imm } => b.store(1, wrapped(addr, imm), val.0, pc),
        I64Store16 { addr, val, offset } => b.store(2, at(addr, offset), val.0, pc),
        I64Store16Add { addr, val, imm } => b.store(2, wrapped(addr, imm), val.0, pc),
        I64Store32 { addr, val, offset } => b.store(4, at(addr, offset), val.0, pc),
        I64Store32Add { addr, val, imm } => b.store(4, wrapped(addr, imm), val.0, pc),
        GlobalGet { dst, global } => b.global_get(dst.0, global),

        F32Add { dst, a, b: y } => b.float_op(W32, FloatOp::Add, dst.0, a.0, y.0),
        F32Sub { dst, a, b: y } => b.float_op(W32, FloatOp::Sub, dst.0, a.0, y.0),
        F32Mul { dst, a, b: y } => b.float_op(W32, FloatOp::Mul, dst.0, a.0, y.0),
        F32Div { dst, a, b: y } => b.float_op(W32, FloatOp::Div, dst.0, a.0, y.0),
        F64Add { dst, a, b: y } => b.float_op(W64, FloatOp::Add, dst.0, a.0, y.0),
        F64Sub { dst, a, b: y } => b.float_op(W64, FloatOp::Sub, dst.0, a.0, y.0),
        F64Mul { dst, a, b: y } => b.float_op(W64, FloatOp::Mul, dst.0, a.0, y.0),
        F64Div { dst, a, b: y } => b.float_op(W64, FloatOp::Div, dst.0, a.0, y.0),
        F32Eq { dst, a, b: y } => b.float_cmp(W32, FloatCond::Eq, dst.0, a.0, y.0),
        F32Ne { dst, a, b: y } => b.float_cmp(W32, FloatCond::Ne, dst.0, a.0, y.0),
        F32Lt { dst, a, b: y } => b.float_cmp(W32, FloatCond::Lt, dst.0, a.0, y.0),
        F32Gt { dst, a, b: y } => b.float_cmp(W32, FloatCond::Gt, dst.0, a.0, y.0),
        F32Le { dst, a, b: y } => b.float_cmp(W32, FloatCond::Le, dst.0, a.0, y.0),
        F32Ge { dst, a, b: y } => b.float_cmp(W32, FloatCond::Ge, dst.0, a.0, y.0),
        F64Eq { dst, a, b: y } => b.float_cmp(W64, FloatCond::Eq, dst.0, a.0, y.0),
        F64Ne { dst, a, b: y } => b.float_cmp(W64, FloatCond::Ne, dst.0, a.0, y.0),
        F64Lt { dst, a, b: y } => b.float_cmp(W64, FloatCond::Lt, dst.0, a.0, y.0),
        F64Gt { dst, a, b: y } => b.float_cmp(W64, FloatCond::Gt, dst.0, a.0, y.0),
        F64Le { dst, a, b: y } => b.float_cmp(W64, FloatCond::Le, dst.0, a.0, y.0),
        F64Ge { dst, a, b: y } => b.float_cmp(W64, FloatCond::Ge, dst.0, a.0, y.0),
        F32Sqrt { dst, src } => b.float_sqrt(W32, dst.0, src.0),
        F64Sqrt { dst, src } => b.float_sqrt(W64, dst.0, src.0),
        F32DemoteF64 { dst, src } => b.float_convert(W32, dst.0, src.0),
        F64PromoteF32 { dst, src } => b.float_convert(W64, dst.0, src.0),
        F32ConvertI32S { dst, src } => return Ok(b.int_to_float(W32, true, W32, dst.0, src.0)),
        F32ConvertI32U { dst, src } => return Ok(b.int_to_float(W32, false, W32, dst.0, src.0)),
        F32ConvertI64S { dst, src } => return Ok(b.int_to_float(W64, true, W32, dst.0, src.0)),
        F32ConvertI64U { dst, src } => return Ok(b.int_to_float(W64, false, W32, dst.0, src.0)),
        F64ConvertI32S { dst, src } => return Ok(b.int_to_float(W32, true, W64, dst.0, src.0)),
        F64ConvertI32U { dst, src } => return Ok(b.int_to_float(W32, false, W64, dst.0, src.0)),
        F64ConvertI64S { dst, src } => return Ok(b.int_to_float(W64, true, W64, dst.0, src.0)),
        F64ConvertI64U { dst, src } => return Ok(b.int_to_float(W64, false, W64, dst.0, src.0)),
        GlobalSet { src, global } => b.global_set(src.0, global),
    }
    Ok(true)
}

/// Lowers a compare-and-branch; `None` if `instr` is not one.
pub(crate) fn br_cmp(instr: &Instr) -> Option<(Width, Cond, u16, Rhs, gloam_interp::ops::Target)> {
    use Cond::*;
    use Width::{W32, W64};
    macro_rules! rows {
        ($($reg:ident, $imm:ident, $w:expr, $c:expr;)*) => {
            match *instr {
                $(Instr::$reg { a, b, target } => ($w, $c, a.0, Rhs::Cell(b.0), target),
                  Instr::$imm { a, imm, target } => ($w, $c, a.0, Rhs::Imm(imm), target),)*
                _ => return None,
            }
        };
    }
    Some(rows! {
        BrI32Eq, BrI32EqImm, W32, Eq;
        BrI32Ne, BrI32NeImm, W32, Ne;
        BrI32LtS, BrI32LtSImm, W32, LtS;
        BrI32LtU, BrI32LtUImm, W32, LtU;
        BrI32GtS, BrI32GtSImm, W32, GtS;
        BrI32GtU, BrI32GtUImm, W32, GtU;
        BrI32LeS, BrI32LeSImm, W32, LeS;
        BrI32LeU, BrI32LeUImm, W32, LeU;
        BrI32GeS, BrI32GeSImm, W32, GeS;
        BrI32GeU, BrI32GeUImm, W32, GeU;
        BrI64Eq, BrI64EqImm, W64, Eq;
        BrI64Ne, BrI64NeImm, W64, Ne;
        BrI64LtS, BrI64LtSImm, W64, LtS;
        BrI64LtU, BrI64LtUImm, W64, LtU;
        BrI64GtS, BrI64GtSImm, W64, GtS;
        BrI64GtU, BrI64GtUImm, W64, GtU;
        BrI64LeS, BrI64LeSImm, W64, LeS;
        BrI64LeU, BrI64LeUImm, W64, LeU;
        BrI64GeS, BrI64GeSImm, W64, GeS;
        BrI64GeU, BrI64GeUImm, W64, GeU;
    })
}
