use gloam_benches::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let w = load_workloads()
        .unwrap()
        .into_iter()
        .find(|w| w.name == args[1])
        .unwrap();
    let n: i32 = args[3].parse().unwrap();
    let r: Box<dyn Runtime> = if args[2] == "gloam" {
        Box::new(Gloam)
    } else {
        Box::new(Wasmi)
    };
    println!("{:?}", run_once(r.as_ref(), &w, n));
}
