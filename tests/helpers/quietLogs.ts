// Runs before each test file: the processes' info-level JSON logs would bury jest's own output.
// Tests that check log lines build their own logger.
process.env.LOG_LEVEL ??= 'warn';
