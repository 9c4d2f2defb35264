//! How a command fails: one line that says what to do, and the exit code.

/// Exit code 1: the token was refused (`verify`), a gate would refuse the issuer's documents
/// (`keys`), or `bench` saw a wrong answer.
pub const REFUSED: u8 = 1;
/// Exit code 2: bad arguments or input, or the answer could not be had (keys unavailable).
pub const UNDECIDED: u8 = 2;

/// A command that could not do its job.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// One line: what went wrong and what to do about it.
    pub message: String,
}

impl Failure {
    /// Bad input or arguments, or an answer that could not be had: exit code 2.
    pub fn undecided(message: impl Into<String>) -> Failure {
        Failure {
            code: UNDECIDED,
            message: message.into(),
        }
    }

    /// What a gate would refuse: exit code 1.
    pub fn refused(message: impl Into<String>) -> Failure {
        Failure {
            code: REFUSED,
            message: message.into(),
        }
    }
}
