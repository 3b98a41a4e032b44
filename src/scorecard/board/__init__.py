"""The board report and the governance evidence pack: what leaves the app for the rooms
it does not reach."""
