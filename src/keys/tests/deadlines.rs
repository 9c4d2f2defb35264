//! The refresh limits' arithmetic: backoff after failures, deadlines near the end of what an
//! `Instant` can hold.

use std::time::Duration;

use tokio::time::Instant;

use crate::keys::refresh::{MAX_BACKOFF, backoff, later};

#[test]
fn backoff_doubles_up_to_ten_minutes() {
    let second = Duration::from_secs(1);
    let waits: Vec<u64> = (1..=12)
        .map(|n| backoff(second * 60, n).as_secs())
        .collect();
    assert_eq!(
        waits,
        [60, 120, 240, 480, 600, 600, 600, 600, 600, 600, 600, 600]
    );
    assert_eq!(backoff(second, 1), second);
    assert_eq!(backoff(second, 4).as_secs(), 8);
    assert_eq!(backoff(second, u32::MAX), MAX_BACKOFF);
    // A cooldown longer than the cap is still the least wait.
    assert_eq!(backoff(second * 3600, 3).as_secs(), 3600);
}

#[test]
fn far_future_instants_do_not_overflow() {
    let now = Instant::now();
    assert!(later(now, Duration::MAX) > now);
    assert_eq!(
        later(now, Duration::from_secs(5)),
        now + Duration::from_secs(5)
    );
}

/// Near the end of what an `Instant` can hold, a deadline that does not fit is the farthest
/// one that does, never now: a limit that cannot be computed keeps the door shut.
#[test]
fn deadlines_that_do_not_fit_fail_closed() {
    let now = Instant::now();
    // The last second an `Instant` can hold, from now on.
    let mut room = Duration::MAX;
    while now.checked_add(room).is_none() {
        room /= 2;
    }
    let mut step = room;
    while step > Duration::from_secs(1) {
        step /= 2;
        if now.checked_add(room + step).is_some() {
            room += step;
        }
    }
    let near_end = now + room - Duration::from_secs(86_400);
    let day = Duration::from_secs(86_400);
    assert!(
        near_end
            .checked_add(Duration::from_secs(100 * 365 * 86_400))
            .is_none()
    );
    // At least half the room left, where "now" would open every limit at once.
    assert!(later(near_end, Duration::MAX) >= near_end + day / 2);
    assert!(later(near_end, day * 365) >= near_end + day / 2);
    assert_eq!(later(near_end, day / 2), near_end + day / 2);
}
