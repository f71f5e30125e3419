# The tag C++ exceptions are thrown with (payload: the address of the exception object).
# Newer LLVM libunwind releases define it; the one zig 0.17 bundles does not.
.globl __cpp_exception
.tagtype __cpp_exception i32
__cpp_exception:
