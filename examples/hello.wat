;; Calls a host function: `gloam run examples/hello.wat --invoke main` prints via the
;; CLI's `host.print_i32` import.
(module
  (import "host" "print_i32" (func $print (param i32)))
  (func (export "main") (result i32)
    (call $print (i32.const 42))
    (i32.const 0)))
