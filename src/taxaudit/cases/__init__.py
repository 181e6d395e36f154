"""Running a case: working-day calendars, statutory deadlines, lifecycle, requests and acts."""
