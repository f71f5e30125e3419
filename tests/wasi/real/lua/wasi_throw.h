/* Lua errors without setjmp/longjmp (the engine has no exception handling): report
   the error and exit. pcall cannot catch errors in this build. */
struct lua_State;
_Noreturn void lua_wasi_throw(struct lua_State *L, int status);
#define LUAI_THROW(L, c) lua_wasi_throw(L, (c)->status)
#define LUAI_TRY(L, c, a) { a }
#define luai_jmpbuf int
