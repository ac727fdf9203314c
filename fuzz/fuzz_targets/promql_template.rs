//! PromQL templates filled with names from the cluster: a value put inside
//! a quoted string can never end that string early.
#![no_main]

use kubedeck_core::fuzzing::promql_template;
use libfuzzer_sys::fuzz_target;

/// Whether `s` is exactly one PromQL double-quoted string literal.
fn one_string(s: &str) -> bool {
    let Some(body) = s.strip_prefix('"') else {
        return false;
    };
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if chars.next().is_none() {
                    return false;
                }
            }
            '"' => return chars.next().is_none(),
            _ => {}
        }
    }
    false
}

fuzz_target!(|input: (&str, &str, Vec<String>)| {
    let (template, namespace, names) = input;
    let _ = promql_template(template, namespace, &names);
    for t in ["\"$namespace\"", "\"$names\"", "\"$pods\""] {
        let out = promql_template(t, namespace, &names);
        assert!(one_string(&out), "{t} with {namespace:?} {names:?} gave {out}");
    }
});
