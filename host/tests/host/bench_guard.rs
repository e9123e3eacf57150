//! Guards what `make bench` relies on, without timing anything: the host counts
//! every instantiation and reports the histogram when it stops.

use std::time::{Duration, Instant};

use crate::support::Platform;

#[test]
fn the_host_reports_one_instantiation_per_guest_request_when_it_stops() {
    let app = Platform::start();
    let routes = [
        "/api/users/health",
        "/api/events/health",
        "/api/participation/health",
        "/api/tickets/health",
        "/api/status/health",
    ];
    for route in routes {
        app.get(route).assert_status(200);
    }
    // /api/status asks the four domains: five instances for one request.
    app.get("/api/status").assert_status(200);
    let log = app.log.clone();
    drop(app);
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("instantiations:")) {
            break line.to_owned();
        }
        assert!(Instant::now() < deadline, "no instantiation summary in the log:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let count: u64 = line
        .split("instantiations: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert_eq!(count, 10, "{line}");
    assert!(line.contains("p50 ") && line.contains(" µs"), "{line}");
}
