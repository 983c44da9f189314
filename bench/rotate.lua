-- wrk script for bench/run.sh: rotates among request targets read from a file, one a line
-- (presigned S3 URLs as path+query, or plain paths of static files), and optionally sends a body.
--
--   wrk -tT ... -s bench/rotate.lua URL -- TARGETS_FILE [METHOD] [BODY_BYTES] [T]
--
-- With T (= wrk's -t), wrk thread t uses only the targets i with i % T == t, so two threads never
-- write the same key at once (for PUTs, keep more targets per thread than connections per thread).
--
-- Headers given with -H (SSE-C key headers) go with every request; they are not part of the
-- presigned signature (only `host` is signed), which S3 allows. All requests are formatted once in
-- init(), so a 1 MiB PUT body costs no Lua work per request. done() prints one JSON line
-- (prefixed "WRKJSON ") that run.sh parses (done() runs in wrk's main Lua state, which never saw init()).

local targets = {}
local requests = {}
local idx = 0
local method = "GET"
local body_bytes = 0
local thread_count = 0

function setup(thread)
   thread:set("thread_id", thread_count)
   thread_count = thread_count + 1
end

function init(args)
   local file = args[1]
   method = args[2] or "GET"
   body_bytes = tonumber(args[3] or "0")
   for line in io.lines(file) do
      if line ~= "" then table.insert(targets, line) end
   end
   local body = nil
   if body_bytes > 0 then
      -- A not-all-zero body: 64 distinct bytes repeated.
      local block = {}
      for i = 0, 63 do block[#block + 1] = string.char((i * 37 + 11) % 256) end
      body = string.rep(table.concat(block), math.floor(body_bytes / 64)) ..
             string.rep("x", body_bytes % 64)
   end
   local nthreads = tonumber(args[4] or "1")
   local me = tonumber(thread_id) or 0
   for i, line in ipairs(targets) do
      if nthreads <= 1 or #targets < nthreads or (i - 1) % nthreads == me then
         -- "target<TAB>Name: value<TAB>…": extra headers of this request (a replayed header signature).
         local headers = {}
         for k, v in pairs(wrk.headers) do headers[k] = v end
         local target = nil
         for field in string.gmatch(line, "[^\t]+") do
            if target == nil then
               target = field
            else
               local k, v = string.match(field, "^([^:]+):%s*(.*)$")
               headers[k] = v
            end
         end
         requests[#requests + 1] = wrk.format(method, target, headers, body)
      end
   end
   -- Threads sharing all targets start at different ones.
   idx = me % #requests
end

function request()
   idx = (idx % #requests) + 1
   return requests[idx]
end

function done(summary, latency, requests_)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"bytes_read":%d,' ..
      '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
      '"lat_p50_us":%d,"lat_p99_us":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99)))
end
