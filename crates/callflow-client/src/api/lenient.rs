//! Field deserializers for answers: numbers that 8x8 sometimes sends as strings (the webhooks
//! API's 422 has `"statusCode": "1001"`), and fields whose documented type drifts. They are
//! the core's ([`callflow::event::lenient`]): one tolerance rule for events and answers.

pub(crate) use callflow::event::lenient::{opt_float as opt_f64, opt_num as opt_i64, vec_or_null};

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct N {
        #[serde(default, deserialize_with = "super::opt_i64")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "super::opt_f64")]
        f: Option<f64>,
    }

    #[test]
    fn numbers_or_numeric_strings() {
        let p = |s: &str| serde_json::from_str::<N>(s).map(|n| (n.n, n.f));
        assert_eq!(p(r#"{"n": 1001}"#).unwrap(), (Some(1001), None));
        assert_eq!(p(r#"{"n": "1001"}"#).unwrap(), (Some(1001), None));
        assert_eq!(
            p(r#"{"n": "-1013", "f": "0.5"}"#).unwrap(),
            (Some(-1013), Some(0.5))
        );
        assert_eq!(p(r#"{"n": null, "f": 2}"#).unwrap(), (None, Some(2.0)));
        assert_eq!(p(r#"{}"#).unwrap(), (None, None));
        assert!(p(r#"{"n": "abc"}"#).is_err());
        assert!(p(r#"{"n": 1.5}"#).is_err());
    }
}
