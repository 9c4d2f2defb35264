//! Wycheproof and RFC 7520 vectors, run against the JWS and key stages (filled in next).
