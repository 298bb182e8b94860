/**
 * libuv's thread pool runs every asynchronous file-system call. It has 4 threads by default, and
 * the store's fsyncs hold one each for milliseconds: with 8 downloads in flight the opens, stats,
 * writes and renames of the others queue behind them. This raises the pool to 16 threads unless
 * the user chose a size. It works because the pool starts on the first asynchronous call, after
 * every static import has run; importing this module from the fs driver is enough.
 */
const DEFAULT_THREADS = '16';

if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = DEFAULT_THREADS;

/** The pool size asked for (libuv reads it once, when the pool starts). */
export const threadPoolSize = Number(process.env.UV_THREADPOOL_SIZE);
