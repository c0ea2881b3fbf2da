//! The lag arithmetic of `replica`: positions sampled over time, GTID
//! lists, node rows and addresses.

use super::*;

fn names(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(n, p)| (n.to_string(), *p)).collect()
}

/// Lag is the age of the oldest sample a replica has not reached; a
/// replica at the runner's position is 0 behind; one behind the first
/// sample is unmeasured; samples every replica passed are dropped.
#[test]
fn positions_measure_the_age_of_the_oldest_unapplied_sample() {
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut s = Positions::default();
    s.push(t0, 10);
    // Behind the first sample: unknown, a lower bound.
    let r = s.reading(ms(50), &names(&[("a", 10), ("b", 7)]));
    assert_eq!(r.replicas, 2);
    assert!(r.unmeasured);
    assert_eq!(r.worst.as_deref(), Some("b"));
    assert_eq!(r.lag, Duration::from_millis(50));
    s.push(ms(100), 20);
    s.push(ms(150), 20);
    s.push(ms(200), 30);
    // a at 20 misses the sample at 200 (30): 100 ms at 300; b passed
    // the first sample (10) and misses the one at 100 (20): 200 ms.
    let r = s.reading(ms(300), &names(&[("a", 20), ("b", 12)]));
    assert!(!r.unmeasured);
    assert_eq!(r.lag, Duration::from_millis(200));
    assert_eq!(r.worst.as_deref(), Some("b"));
    // Both caught up to 30: nothing behind, the old samples dropped.
    let r = s.reading(ms(400), &names(&[("a", 30), ("b", 30)]));
    assert_eq!(r.lag, Duration::ZERO);
    assert!(!r.unmeasured && r.worst.is_none());
    assert_eq!(s.samples.len(), 1, "{:?}", s.samples);
    // No replicas: nothing to wait for.
    let r = s.reading(ms(500), &[]);
    assert_eq!(
        (r.replicas, r.lag, r.unmeasured),
        (0, Duration::ZERO, false)
    );
}

/// GTID lists by domain; a replica is one whose last GTID of the
/// runner's domain was written by the primary's server and is not ahead of
/// it; text that is not a GTID list is refused.
#[test]
fn gtid_positions_and_who_replicates_whom() {
    let primary = parse_gtids("0-21-57,1-21-3").expect("gtids");
    assert_eq!(
        primary[&0],
        Gtid {
            server: 21,
            seq: 57
        }
    );
    let replica = parse_gtids("0-21-50, 1-21-3, 7-99-1000").expect("gtids");
    assert_eq!(not_a_replica(&replica, &primary, 0), None);
    // Another primary's domain 0 (server 5), however far it is.
    let other = parse_gtids("0-5-900").expect("gtids");
    assert!(not_a_replica(&other, &primary, 0).is_some_and(|w| w.contains("server 5")));
    let ahead = parse_gtids("0-21-60").expect("gtids");
    assert!(not_a_replica(&ahead, &primary, 0).is_some_and(|w| w.contains("ahead")));
    let none = parse_gtids("").expect("empty");
    assert!(not_a_replica(&none, &primary, 0).is_some_and(|w| w.contains("nothing")));
    // The domain the runner writes is the one compared.
    assert_eq!(not_a_replica(&replica, &primary, 1), None);
    assert!(parse_gtids("0-21").is_none());
    assert!(parse_gtids("a-b-c").is_none());
    assert!(parse_gtids("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5").is_none());
}

#[test]
fn node_rows_and_addresses_are_read() {
    let info = node_info(Ok(vec![
        "ON|a21f|127.0.0.1:3311|127.0.0.1:3311,127.0.0.1:3312, [::1]:3313".into(),
    ]))
    .expect("reads");
    assert!(info.on);
    assert_eq!(info.cluster, "a21f");
    assert_eq!(info.all.len(), 3);
    assert_eq!(
        split_address(&info.all[2]),
        Some(("::1".into(), Some(3313)))
    );
    assert_eq!(split_address("db1"), Some(("db1".into(), None)));
    assert_eq!(split_address("db1:x"), None);
    let off = node_info(Ok(vec!["OFF|||".into()])).expect("reads");
    assert!(!off.on && off.all.is_empty());
    let url = DatabaseUrl::parse("mysql://root@127.0.0.1:3311/app").expect("url");
    assert!(is_self(&url, "127.0.0.1:3311"));
    assert!(!is_self(&url, "127.0.0.1:3312"));
}
