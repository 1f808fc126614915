/* Offline outbox (filled in by the offline feature). */
