//! A fake Google People API v1 + OAuth 2.0 server (being written).
