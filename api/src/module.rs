//! `Module`: a validated, shareable WebAssembly module.

use crate::engine::Engine;
use anyhow::{Context, Result, anyhow};
use gloam_interp::ExternType;
use std::path::Path;
use std::sync::Arc;

/// A validated module, cheap to clone and shared between stores of one engine.
#[derive(Clone, Debug)]
pub struct Module {
    pub(crate) engine: Engine,
    pub(crate) inner: Arc<gloam_interp::Module>,
}

/// An import of a module: module name, field name and type.
#[derive(Clone, Debug)]
pub struct ImportType<'m> {
    module: &'m str,
    name: &'m str,
    ty: ExternType,
}

impl<'m> ImportType<'m> {
    pub fn module(&self) -> &'m str {
        self.module
    }
    pub fn name(&self) -> &'m str {
        self.name
    }
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// An export of a module: name and type.
#[derive(Clone, Debug)]
pub struct ExportType<'m> {
    name: &'m str,
    ty: ExternType,
}

impl<'m> ExportType<'m> {
    pub fn name(&self) -> &'m str {
        self.name
    }
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

fn to_binary(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.into());
    }
    let wasm = wat::parse_bytes(bytes).map_err(|e| anyhow!("{e}"))?;
    Ok(wasm.into_owned().into())
}

impl Module {
    /// Compiles a module from the binary format or the text format.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let wasm = to_binary(bytes.as_ref())?;
        Module::from_binary(engine, &wasm)
    }

    /// Compiles a module from the binary format only.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let inner = gloam_interp::Module::new(&engine.inner, binary)
            .map_err(|e| anyhow!("failed to compile module: {e}"))?;
        Ok(Module {
            engine: engine.clone(),
            inner: Arc::new(inner),
        })
    }

    /// Compiles the module in `path` (binary or text).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Module::new(engine, bytes).with_context(|| format!("in {}", path.display()))
    }

    /// Validates a binary module without keeping it.
    pub fn validate(engine: &Engine, binary: &[u8]) -> Result<()> {
        Module::from_binary(engine, binary).map(drop)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The module's name from the name section.
    pub fn name(&self) -> Option<&str> {
        self.inner.names.module.as_deref()
    }

    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.inner.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: self.inner.import_type(i),
        })
    }

    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.inner.exports.iter().map(|e| ExportType {
            name: &e.name,
            ty: self.inner.export_type(e),
        })
    }

    pub fn get_export(&self, name: &str) -> Option<ExternType> {
        self.inner
            .exports
            .iter()
            .find(|e| e.name == name)
            .map(|e| self.inner.export_type(e))
    }

    /// The core module (for tools such as the disassembler).
    pub fn core(&self) -> &gloam_interp::Module {
        &self.inner
    }

    /// The machine code the JIT makes for function `func_index` (imports included), with
    /// where each bytecode instruction's code starts: what `gloam disas --jit` prints.
    /// Compiles a fresh copy (nothing runs it). Errors for an imported function, one the
    /// JIT cannot compile (saying why), or a build without a JIT backend.
    #[cfg(feature = "jit")]
    pub fn jit_listing(&self, func_index: u32) -> Result<gloam_jit::Listing> {
        let m = &*self.inner;
        let def = func_index
            .checked_sub(m.num_imported_funcs)
            .ok_or_else(|| anyhow!("function {func_index} is imported"))?;
        let f = m
            .code(def)
            .map_err(|e| anyhow!("function {func_index}: {e}"))?;
        gloam_jit::listing(m, f).map_err(|e| anyhow!("function {func_index}: {e}"))
    }
}

/// How the JIT handled one function (see [`Module::jit_compile_all`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitOutcome {
    /// The function's index in the module (imports included).
    pub func_index: u32,
    /// Bytes of machine code, or why the function stays interpreted.
    pub result: std::result::Result<usize, String>,
}

impl Module {
    /// Compiles every function body with the JIT now (those compiled already keep their
    /// code) and reports each outcome. Functions the JIT cannot compile say why
    /// (`"unsupported: OP"`); they run in the interpreter. Errors if the engine has no JIT
    /// (no `jit` feature, no backend for this target, or `Config::jit_threshold` unset).
    pub fn jit_compile_all(&self) -> Result<Vec<JitOutcome>> {
        let engine = &self.engine.inner;
        let codegen = engine
            .codegen
            .as_ref()
            .ok_or_else(|| anyhow!("the engine has no JIT (set Config::jit_threshold)"))?;
        let m = &*self.inner;
        // Translation errors stay in their functions' outcomes below.
        let _ = m.translate_all(engine);
        // One batch for the functions not compiled yet, so they share executable memory.
        let funcs: Vec<_> = (0..m.num_defined_funcs())
            .filter_map(|def| m.code(def).ok())
            .filter(|f| f.jit.outcome().is_none())
            .collect();
        for (f, native) in funcs.iter().zip(codegen.compile_all(m, &funcs)) {
            m.install_native(f, || native);
        }
        Ok(self.jit_status())
    }

    /// How the JIT has handled each function so far, compiling nothing (it translates
    /// bodies not translated yet): native code
    /// (tier-up after calls, or a hot loop's on-stack replacement), why a function stays
    /// interpreted, or `"not compiled"` for a function not (yet) hot.
    pub fn jit_status(&self) -> Vec<JitOutcome> {
        let m = &*self.inner;
        let mut out = Vec::new();
        for def in 0..m.num_defined_funcs() {
            let func_index = m.num_imported_funcs + def;
            let result = match m.code(def) {
                Ok(f) => match f.jit.outcome() {
                    Some(Ok(n)) => Ok(n.size()),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err("not compiled".to_string()),
                },
                Err(e) => Err(format!("translation failed: {e}")),
            };
            out.push(JitOutcome { func_index, result });
        }
        out
    }
}
