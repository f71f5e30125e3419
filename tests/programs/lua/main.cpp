// A minimal Lua front end: `lua NAME` runs the program read from stdin as chunk NAME
// (error positions read "NAME:LINE:"). Compiled as C++ with the Lua sources, so Lua's
// errors are C++ exceptions (ldo.c's LUAI_THROW/LUAI_TRY), hence Wasm exceptions.
#include <cstdio>
#include <string>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int main(int argc, char **argv) {
    std::string src;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) src.append(buf, n);
    std::string name = std::string("=") + (argc > 1 ? argv[1] : "stdin");
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    int status = luaL_loadbuffer(L, src.data(), src.size(), name.c_str());
    if (status == LUA_OK) status = lua_pcall(L, 0, 0, 0);
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        std::fflush(stdout);
        std::fprintf(stderr, "lua: %s\n", msg ? msg : "(error object is not a string)");
        lua_close(L);
        return 1;
    }
    lua_close(L);
    return 0;
}
