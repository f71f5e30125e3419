;; Rooting walk-through for `gloam gc-trace` (uses the built-in `gloam:gc` host module).
;;   gloam gc-trace examples/gc.wat --invoke run
;;   gloam gc-trace examples/gc.wat --invoke run --why 1 --step
;; Object #1 is kept in a local and survives the collection; #2 is dropped at once and
;; freed by it; #3 is stored in a global and stays alive after the call returns.
(module
  (import "gloam:gc" "new" (func $new (param i32) (result externref)))
  (import "gloam:gc" "gc" (func $gc))
  (import "gloam:gc" "drop_count" (func $drop_count (result i32)))
  (import "gloam:gc" "value" (func $value (param externref) (result i32)))
  (global $kept (mut externref) (ref.null extern))
  (func (export "run") (result i32)
    (local $a externref)
    (local.set $a (call $new (i32.const 10)))
    (drop (call $new (i32.const 20)))
    (global.set $kept (call $new (i32.const 30)))
    (call $gc)
    ;; 10 + 30 + drops (1) = 41
    (i32.add
      (i32.add (call $value (local.get $a)) (call $value (global.get $kept)))
      (call $drop_count))))
