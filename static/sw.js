/* Service worker (filled in by the offline feature). */
