#!/usr/bin/env python3
"""Runs a WASI program under wasmtime (PyPI `wasmtime`), for comparing gloam's output.

usage: wasmtime_ref.py [--dir HOST[::GUEST]] [--env K=V] FILE.wasm [ARGS...]
Same argv[0], environment and preopen conventions as `gloam run`.
"""
import sys

import wasmtime


def main(argv):
    dirs, envs = [], []
    while argv and argv[0] in ("--dir", "--env"):
        (dirs if argv[0] == "--dir" else envs).append(argv[1])
        argv = argv[2:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    file, args = argv[0], argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, file)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    cfg = wasmtime.WasiConfig()
    cfg.argv = [file] + args
    cfg.env = [tuple(e.split("=", 1)) for e in envs]
    for d in dirs:
        host, _, guest = d.partition("::")
        cfg.preopen_dir(host, guest or host)
    cfg.inherit_stdin()
    cfg.inherit_stdout()
    cfg.inherit_stderr()
    store.set_wasi(cfg)
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
