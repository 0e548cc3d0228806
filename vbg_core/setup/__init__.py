"""The installer's side (standard library only, no OBS, no engine): finding and editing
OBS's configuration (`obsconfig`), judging the Python OBS loads on Windows/macOS
(`obspython`), and the installers' command (`python -m vbg_core.setup`)."""
