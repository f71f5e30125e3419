;; A loop-heavy sample: sums i*i mod 7 for i in [0, n) with 64-bit accumulation,
;; plus a memory checksum pass. `gloam run examples/loop.wat --invoke run 1000000`.
(module
  (memory (export "memory") 1)
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i64.add (local.get $acc)
            (i64.extend_i32_u (i32.rem_u (i32.mul (local.get $i) (local.get $i)) (i32.const 7)))))
        (i32.store8 (i32.and (local.get $i) (i32.const 0xffff)) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; fold the first 256 bytes of memory into the result
    (local.set $i (i32.const 0))
    (block $done2
      (loop $next2
        (br_if $done2 (i32.ge_u (local.get $i) (i32.const 256)))
        (local.set $acc
          (i64.add (i64.mul (local.get $acc) (i64.const 31))
            (i64.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next2)))
    (local.get $acc)))
