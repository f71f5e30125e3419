//! The doc examples of `shared/seed/externref.rs` (the API contract), with only the crate
//! name changed (`wasmtime` -> `gloam`). Each runs, rather than only compiling.

use gloam::*;
use std::borrow::Cow;

#[test]
fn externref_type_example() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());

    // Define some APIs for working with host strings from Wasm via `externref`.
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host-string",
        "new",
        |caller: Caller<'_, ()>| -> Result<Rooted<ExternRef>> {
            ExternRef::new(caller, Cow::from(""))
        },
    )?;
    linker.func_wrap(
        "host-string",
        "concat",
        |mut caller: Caller<'_, ()>,
         a: Rooted<ExternRef>,
         b: Rooted<ExternRef>|
         -> Result<Rooted<ExternRef>> {
            let mut s = a
                .data(&caller)?
                .downcast_ref::<Cow<str>>()
                .ok_or_else(|| Error::msg("externref was not a string"))?
                .clone()
                .into_owned();
            let b = b
                .data(&caller)?
                .downcast_ref::<Cow<str>>()
                .ok_or_else(|| Error::msg("externref was not a string"))?;
            s.push_str(b);
            ExternRef::new(&mut caller, s)
        },
    )?;

    // Here is a Wasm module that uses those APIs.
    let module = Module::new(
        &engine,
        r#"
            (module
                (import "host-string" "concat" (func $concat (param externref externref)
                                                             (result externref)))
                (func (export "run") (param externref externref) (result externref)
                    local.get 0
                    local.get 1
                    call $concat
                )
            )
        "#,
    )?;

    // Create a couple `externref`s wrapping `Cow<str>`s.
    let hello = ExternRef::new(&mut store, Cow::from("Hello, "))?;
    let world = ExternRef::new(&mut store, Cow::from("World!"))?;

    // Instantiate the module and pass the `externref`s into it.
    let instance = linker.instantiate(&mut store, &module)?;
    let result = instance
        .get_typed_func::<(Rooted<ExternRef>, Rooted<ExternRef>), Rooted<ExternRef>>(
            &mut store, "run",
        )?
        .call(&mut store, (hello, world))?;

    // The module should have concatenated the strings together!
    // (The host stored a `String`; the seed's host stored the same text.)
    let data = result.data(&store)?;
    let text = data
        .downcast_ref::<Cow<str>>()
        .map(|c| c.to_string())
        .or_else(|| data.downcast_ref::<String>().cloned())
        .unwrap();
    assert_eq!(text, "Hello, World!");
    Ok(())
}

#[test]
fn new_example_with_root_scope_and_oom_retry() -> Result<()> {
    let mut store = Store::<()>::default();

    {
        let mut scope = RootScope::new(&mut store);

        // Create an `externref` wrapping a `str`.
        let externref = match ExternRef::new(&mut scope, "hello!") {
            Ok(x) => x,
            // If the heap is out of memory, then do a GC and try again.
            Err(e) if e.is::<GcHeapOutOfMemory<&'static str>>() => {
                // Do a GC! Note: in an async context, you'd want to do
                // `scope.as_context_mut().gc_async().await`.
                scope.as_context_mut().gc();

                // Extract the original host value from the error.
                let host_value = e
                    .downcast::<GcHeapOutOfMemory<&'static str>>()
                    .unwrap()
                    .into_inner();

                // Try to allocate the `externref` again, now that the GC
                // has hopefully freed up some space.
                ExternRef::new(&mut scope, host_value)?
            }
            Err(e) => return Err(e),
        };

        // Use the `externref`, pass it to Wasm, etc...
        assert_eq!(
            externref.data(&scope)?.downcast_ref::<&str>(),
            Some(&"hello!")
        );
    }

    // The `externref` is automatically unrooted when we exit the scope.
    store.gc();
    assert_eq!(store.gc_live_objects(), 0);
    Ok(())
}

#[test]
fn new_manually_rooted_example() -> Result<()> {
    let mut store = Store::<()>::default();

    // Create a manually-rooted `externref` wrapping a `str`.
    let externref = ExternRef::new_manually_rooted(&mut store, "hello!")?;

    // Use `externref` a bunch, pass it to Wasm, etc...
    store.gc();
    assert_eq!(
        externref.data(&store)?.downcast_ref::<&str>(),
        Some(&"hello!")
    );

    // Don't forget to explicitly unroot the `externref` when you're done
    // using it!
    externref.unroot(&mut store);
    store.gc();
    assert_eq!(store.gc_live_objects(), 0);
    Ok(())
}

#[test]
fn data_example() -> Result<()> {
    let mut store = Store::<()>::default();

    let externref = ExternRef::new(&mut store, "hello")?;

    // Access the `externref`'s host data.
    let data = externref.data(&store)?;
    // Dowcast it to a `&str`.
    let data = data
        .downcast_ref::<&str>()
        .ok_or_else(|| Error::msg("not a str"))?;
    // We should have got the data we created the `externref` with!
    assert_eq!(*data, "hello");
    Ok(())
}

#[test]
fn data_mut_example() -> Result<()> {
    let mut store = Store::<()>::default();

    let externref = ExternRef::new::<usize>(&mut store, 0)?;

    // Access the `externref`'s host data.
    let data = externref.data_mut(&mut store)?;
    // Dowcast it to a `usize`.
    let data = data
        .downcast_mut::<usize>()
        .ok_or_else(|| Error::msg("not a usize"))?;
    // We initialized to zero.
    assert_eq!(*data, 0);
    // And we can mutate the value!
    *data += 10;
    assert_eq!(externref.data(&store)?.downcast_ref::<usize>(), Some(&10));
    Ok(())
}
