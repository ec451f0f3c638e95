//! term: terminal calls (termios raw mode, window size, isatty) for supervisorctl's shell.
