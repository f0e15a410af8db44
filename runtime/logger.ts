import pino from 'pino';

/** One structured JSON logger for every process; `LOG_LEVEL` sets the level. */
export const logger = pino({ level: process.env.LOG_LEVEL || 'info', base: { service: process.env.SERVETUNE_SERVICE || 'servetune' } });
