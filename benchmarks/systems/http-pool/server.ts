// The pooled HTTP client's server: the same node:http server as the pipelined client's.
import '../http/server.js';
