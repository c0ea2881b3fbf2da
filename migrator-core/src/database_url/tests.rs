use super::*;

fn parse(s: &str) -> DatabaseUrl {
    DatabaseUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn refused(s: &str) -> UrlError {
    match DatabaseUrl::parse(s) {
        Ok(u) => panic!("{s}: accepted as {u}"),
        Err(e) => e,
    }
}

#[test]
fn components_are_split_and_decoded() {
    let u =
        parse("postgres://app:s3cr%40t@db.example:6432/my%20db?sslmode=require&application_name=x");
    assert_eq!(u.backend(), Backend::Postgres);
    assert_eq!(u.user(), Some("app"));
    assert_eq!(u.password(), Some("s3cr@t"));
    assert_eq!(u.host(), Some("db.example"));
    assert_eq!(u.port(), Some(6432));
    assert_eq!(u.database(), Some("my db"));
    assert_eq!(u.ssl_mode().as_deref(), Some("require"));
    assert_eq!(u.param("application_name"), Some("x"));
    assert_eq!(
        u.to_string(),
        "postgres://app:***@db.example:6432/my%20db?sslmode=require&application_name=x"
    );

    let u = parse("postgresql://[::1]:5433/x");
    assert_eq!((u.host(), u.port()), (Some("::1"), Some(5433)));
    assert_eq!(u.to_string(), "postgresql://[::1]:5433/x");
    let u = parse("postgres:///app?host=/var/run/postgresql");
    assert_eq!(u.host(), None);
    assert_eq!(u.unix_socket(), Some("/var/run/postgresql"));
    let u = parse("postgres://%2Ftmp%2Fsock/app");
    assert_eq!(u.unix_socket(), Some("/tmp/sock"));
    let u =
        parse("mariadb://root@localhost/app?unix_socket=/run/mysqld/mysqld.sock&ssl_mode=DISABLED");
    assert_eq!(u.backend(), Backend::Mysql);
    assert_eq!(u.unix_socket(), Some("/run/mysqld/mysqld.sock"));
    assert_eq!(u.ssl_mode().as_deref(), Some("disabled"));
    // A libpq host list stays whole.
    let u = parse("postgres://u@h1:5432,h2:5433/app");
    assert_eq!((u.host(), u.port()), (Some("h1:5432,h2:5433"), None));
    assert_eq!(u.to_string(), "postgres://u@h1:5432,h2:5433/app");
}

/// The password ends at the last `@`, so `@ / ? # :` may stay unencoded in
/// it; Display shows none of it.
#[test]
fn raw_special_characters_stay_in_the_password() {
    for (url, password) in [
        ("mysql://root:p@ss/w?rd#x@127.0.0.1:3306/app", "p@ss/w?rd#x"),
        ("postgres://u:a:b@c@h/db", "a:b@c"),
        ("postgres://u:50%off@h/db", "50%off"),
        ("postgres://u:%2F%3F%23%40%3A%25@h/db", "/?#@:%"),
    ] {
        let u = parse(url);
        assert_eq!(u.password(), Some(password), "{url}");
        assert_eq!(
            u.host(),
            Some(if url.starts_with("mysql") {
                "127.0.0.1"
            } else {
                "h"
            })
        );
        let shown = format!("{u} {u:?}");
        assert!(!shown.contains(password), "{url}: {shown}");
        assert!(shown.contains(":***@"), "{shown}");
        // Round trip through the driver's form.
        assert_eq!(parse(&u.expose_url()), u, "{url}");
    }
}

#[test]
fn the_password_parameter_is_a_password() {
    let u = parse("postgres://app@h/db?password=hunter2%21&sslmode=disable");
    assert_eq!(u.password(), Some("hunter2!"));
    assert_eq!(
        u.to_string(),
        "postgres://app@h/db?password=***&sslmode=disable"
    );
    assert_eq!(u.without_password(), "postgres://app@h/db?sslmode=disable");
    assert_eq!(
        u.redact("FATAL: password hunter2! or hunter2%21 refused"),
        "FATAL: password *** or *** refused"
    );
    // Both given: the parameter wins (libpq's rule), both are secrets.
    let u = parse("postgres://app:first1@h/db?password=second2");
    assert_eq!(u.password(), Some("second2"));
    let r = u.redact("first1 second2");
    assert_eq!(r, "*** ***");
}

#[test]
fn redaction_removes_every_spelling() {
    let u = parse("postgres://a:p%40ss word@h/d");
    // Raw, decoded, and as `expose_url` encodes it.
    assert_eq!(
        u.redact("p%40ss word | p@ss word | p%40ss%20word"),
        "*** | *** | ***"
    );
    assert_eq!(u.without_password(), "postgres://a@h/d");
    assert!(!u.without_password().contains("ss"));
    assert_eq!(
        redact_url("postgres://a:topsecret@h/d"),
        "postgres://a:***@h/d"
    );
    assert_eq!(
        redact_url("host=h password=topsecret"),
        "(an invalid database URL)"
    );
    assert_eq!(
        scrub(
            "postgres://a:p%40ss@h/d",
            "bad password p@ss for a (p%40ss)"
        ),
        "bad password *** for a (***)"
    );
}

#[test]
fn sqlite_forms() {
    for (input, path) in [
        ("sqlite://dev.db", "dev.db"),
        ("sqlite:///tmp/x", "/tmp/x"),
        ("sqlite:dev", "dev"),
        ("./data/app", "./data/app"),
        ("../app.sqlite3", "../app.sqlite3"),
        ("/var/lib/app", "/var/lib/app"),
        ("app.db", "app.db"),
        ("App.SQLITE", "App.SQLITE"),
        ("x.db3", "x.db3"),
        (":memory:", ":memory:"),
    ] {
        let u = parse(input);
        assert_eq!(u.backend(), Backend::Sqlite, "{input}");
        assert_eq!(u.sqlite_path(), Some(path), "{input}");
        assert_eq!(parse(&u.expose_url()), u, "{input}");
    }
    assert!(parse(":memory:").is_sqlite_memory());
    assert!(!parse("app.db").is_sqlite_memory());
}

#[test]
fn what_is_not_a_database_url_is_refused() {
    assert_eq!(
        refused("host=127.0.0.1 user=u password=secret dbname=app"),
        UrlError::KeywordString
    );
    assert_eq!(refused("dbname=app"), UrlError::KeywordString);
    assert_eq!(
        refused("prod-db.example.com"),
        UrlError::NotAUrl {
            looks_like_host: true
        }
    );
    assert_eq!(
        refused("migrator"),
        UrlError::NotAUrl {
            looks_like_host: false
        }
    );
    assert_eq!(refused("  "), UrlError::Empty);
    assert!(matches!(refused("sqlite://"), UrlError::Invalid { .. }));
    for (typo, meant) in [
        ("postgress", "postgres"),
        ("postgre", "postgres"),
        ("mysq", "mysql"),
        ("sqllite", "sqlite"),
        ("Postgress", "postgres"),
        ("pg", "postgres"),
    ] {
        let e = refused(&format!("{typo}://u:topsecret@h/db"));
        assert_eq!(
            e,
            UrlError::UnknownScheme {
                scheme: typo.to_string(),
                suggestion: Some(meant)
            }
        );
        let m = e.to_string();
        assert!(m.contains(&format!("did you mean `{meant}://`?")), "{m}");
        assert!(!m.contains("topsecret"), "{m}");
    }
    let e = refused("oracle://u:topsecret@h/db").to_string();
    assert!(
        e.starts_with("unknown database URL scheme `oracle://`\nhelp: expected postgres://"),
        "{e}"
    );
}

/// No error repeats the input: it may be a password.
#[test]
fn errors_never_repeat_the_input() {
    for input in [
        "postgres://u:topsecret@h:notaport/db",
        "postgres://u:topsecret@h:99999/db",
        "postgres://u:topsecret@[::1/db",
        "postgres://u:%FF%FEtopsecret@h/db",
        "mysql://u@h/db?password=%FFtopsecret",
        "host=h password=topsecret",
        "topsecret.example.com",
        "topsecret",
        "jdbc:postgresql://h/db?password=topsecret",
        "postgres:topsecret@h/db",
    ] {
        let e = refused(input).to_string();
        assert!(!e.contains("topsecret"), "{input}: {e}");
        assert!(e.contains("help: "), "{input}: {e}");
    }
}

#[test]
fn the_driver_form_is_canonical_and_round_trips() {
    let u = parse("postgresql://us%3Aer:p%25w@h:1/d%2Fb?options=-c%20x%3D1&a=+");
    assert_eq!(u.user(), Some("us:er"));
    assert_eq!(u.password(), Some("p%w"));
    assert_eq!(u.database(), Some("d/b"));
    assert_eq!(u.param("options"), Some("-c x=1"));
    assert_eq!(u.param("a"), Some("+"));
    assert_eq!(
        u.expose_url(),
        "postgresql://us%3Aer:p%25w@h:1/d%2Fb?options=-c%20x%3D1&a=%2B"
    );
    assert_eq!(parse(&u.expose_url()), u);
    // An empty password is still a password given (and still masked).
    let u = parse("postgres://u:@h/d");
    assert_eq!(u.password(), Some(""));
    assert_eq!(u.to_string(), "postgres://u:***@h/d");
    assert_eq!(parse(&u.expose_url()), u);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// URL-like text: schemes, separators, escapes and words glued at random.
    fn urlish() -> impl Strategy<Value = String> {
        let fragments = prop::sample::select(vec![
            "postgres://",
            "postgresql://",
            "mysql://",
            "mariadb://",
            "sqlite://",
            "sqlite:",
            "u",
            ":",
            "@",
            "/",
            "?",
            "#",
            "%",
            "%4",
            "%40",
            "%2F",
            "%FF",
            "[",
            "]",
            ",",
            "=",
            "&",
            "password=",
            "unix_socket=",
            "sslmode=",
            "host=",
            "5432",
            "0",
            "h",
            "::1",
            " ",
            "ä",
            "*",
            ".db",
            "./",
        ]);
        prop::collection::vec(
            prop_oneof![fragments.prop_map(String::from), ".{0,4}"],
            0..14,
        )
        .prop_map(|parts| parts.concat())
    }

    fn template() -> impl Strategy<Value = String> {
        prop_oneof![
            (urlish(), urlish()).prop_map(|(a, b)| format!("postgres://{a}:{{P}}@{b}")),
            (urlish(), urlish()).prop_map(|(a, b)| format!("mysql://{a}:{{P}}@{b}")),
            urlish().prop_map(|a| format!("postgres://h/{a}?password={{P}}")),
            urlish().prop_map(|a| format!("mariadb://u@h/d?{a}&password={{P}}")),
        ]
    }

    fn encode_all(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Never a panic; the driver's form round-trips; `redact` leaves
        /// no spelling of the password.
        #[test]
        fn parsing_round_trips_and_redacts(text in prop_oneof![urlish(), any::<String>()]) {
            if let Ok(url) = DatabaseUrl::parse(&text) {
                let _ = (url.to_string(), format!("{url:?}"), url.without_password(), url.driver_url());
                let again = DatabaseUrl::parse(&url.expose_url());
                prop_assert_eq!(again.as_ref().ok(), Some(&url), "{}", url.expose_url());
                let redacted = url.redact(&format!("{text} {}", url.expose_url()));
                for s in url.secrets() {
                    if !s.contains('*') {
                        prop_assert!(!redacted.contains(s.as_str()), "{} in {}", s, redacted);
                    }
                }
            }
        }

        /// `Display` and `Debug` do not depend on the password: the same
        /// text as with an empty one.
        #[test]
        fn display_does_not_depend_on_the_password(
            t in template(),
            password in "[a-zA-Z0-9@/?#:%&= *ä]{0,12}",
            raw in any::<bool>(),
        ) {
            let written = if raw { password.clone() } else { encode_all(&password) };
            let full = t.replace("{P}", &written);
            let blank = t.replace("{P}", "");
            if let (Ok(u), Ok(b)) = (DatabaseUrl::parse(&full), DatabaseUrl::parse(&blank)) {
                if u.password() == Some(password.as_str()) && b.password() == Some("") {
                    prop_assert_eq!(u.to_string(), b.to_string());
                    prop_assert_eq!(format!("{u:?}"), format!("{b:?}"));
                    if password.len() >= 4 && !password.contains('*') {
                        prop_assert!(!u.redact(&full).contains(password.as_str()));
                    }
                }
            }
        }
    }
}

/// Found by the properties: hosts that hold `,` or brackets once decoded.
#[test]
fn odd_hosts_round_trip() {
    for url in [
        "postgres://[a,b]:5/d",
        "postgres://[a:b,c]/d",
        "postgres://%5Bx%5D/d",
        "postgres://localhost%2C/d",
        "postgres://:5432/d",
        "postgres://[]:5/d",
    ] {
        let u = parse(url);
        assert_eq!(parse(&u.expose_url()), u, "{url} -> {}", u.expose_url());
    }
}

#[test]
fn another_database_on_the_same_server() {
    let u = parse("postgres://u:p%40ss@db.example:6543/app?sslmode=require&dbname=app");
    let t = u.with_database("scratch");
    assert_eq!(t.database(), Some("scratch"));
    assert_eq!(t.password(), Some("p@ss"));
    assert_eq!((t.host(), t.port()), (Some("db.example"), Some(6543)));
    assert_eq!(t.param("dbname"), None);
    assert_eq!(t.ssl_mode().as_deref(), Some("require"));
    assert_eq!(parse(&t.expose_url()), t, "round-trips: {}", t.expose_url());
    let m = parse("mysql://root@127.0.0.1:3306/app").with_database("x y");
    assert_eq!(m.database(), Some("x y"));
    assert_eq!(parse(&m.expose_url()), m);
    let s = parse("sqlite://app.db").with_database("/tmp/other.db");
    assert_eq!(s.sqlite_path(), Some("/tmp/other.db"));
}
