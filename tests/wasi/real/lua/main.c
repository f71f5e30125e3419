/* A minimal standalone Lua: `lua SCRIPT [ARGS...]` or `lua -e CODE`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

_Noreturn void lua_wasi_throw(lua_State *L, int status) {
    const char *msg = lua_tostring(L, -1);
    fflush(stdout);
    fprintf(stderr, "lua: %s (status %d)\n", msg ? msg : "(error object is not a string)", status);
    exit(1);
}

int main(int argc, char **argv) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    int status;
    if (argc >= 3 && strcmp(argv[1], "-e") == 0) status = luaL_dostring(L, argv[2]);
    else if (argc >= 2) status = luaL_dofile(L, argv[1]);
    else status = luaL_dofile(L, NULL);
    if (status != LUA_OK) lua_wasi_throw(L, status);
    lua_close(L);
    return 0;
}
