import CFastCGI
import Foundation
import Glibc
import Synchronization

/// What the pool calls for each request; runs on a worker thread.
public typealias RequestHandler = @Sendable (Request, Response) -> Void

/// A fixed pool of threads serving FastCGI requests from one listening socket.
///
/// Each idle worker waits in poll() on the socket and on a shutdown eventfd, accepts a
/// connection itself and hands it to libfcgi. So shutdown wakes every idle worker at once,
/// while busy workers finish their request first.
public final class WorkerPool: Sendable {
    private let listenFD: Int32
    private let workers: Int
    private let handler: RequestHandler
    /// Readable once shutdown begins (a pipe nobody drains).
    private let wakeFD: Int32
    private let wakeWriteFD: Int32
    private let running = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)

    public init(listenFD: Int32, workers: Int, handler: @escaping RequestHandler) {
        precondition(FCGX_Init() == 0, "FCGX_Init failed")
        self.listenFD = listenFD
        self.workers = max(1, workers)
        self.handler = handler
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0, "pipe failed")
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        self.wakeFD = ends[0]
        self.wakeWriteFD = ends[1]
    }

    public var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }

    public func start() {
        for index in 0..<workers {
            running.add(1, ordering: .relaxed)
            let thread = Thread { [self] in
                serve()
                running.subtract(1, ordering: .relaxed)
            }
            thread.name = "worker-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Stops accepting, then waits up to `grace` seconds for in-flight requests.
    /// Returns true when every worker finished in time.
    public func stop(grace: Double) -> Bool {
        var one: UInt8 = 1
        _ = Glibc.write(wakeWriteFD, &one, 1)
        let deadline = Date().addingTimeInterval(grace)
        while running.load(ordering: .relaxed) > 0 && Date() < deadline {
            usleep(20_000)
        }
        return running.load(ordering: .relaxed) == 0
    }

    private func serve() {
        var request = FCGX_Request()
        FCGX_InitRequest(&request, listenFD, 0)
        while let connection = nextConnection() {
            request.ipcFd = connection
            // With keepConnection set, FCGX_Accept_r reads from the fd we accepted instead of
            // accepting on its own; the begin-request record then sets the real flag.
            request.keepConnection = 1
            repeat {
                guard FCGX_Accept_r(&request) == 0 else { break }
                inFlight.add(1, ordering: .relaxed)
                handle(&request)
                FCGX_Finish_r(&request)
                inFlight.subtract(1, ordering: .relaxed)
            } while request.ipcFd >= 0 && !isStopping  // nginx asked to keep the connection
            if request.ipcFd >= 0 {
                close(request.ipcFd)
                request.ipcFd = -1
            }
        }
    }

    private var isStopping: Bool {
        var fds = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        return poll(&fds, 1, 0) > 0
    }

    /// Blocks until a connection arrives (its fd) or shutdown begins (nil).
    private func nextConnection() -> Int32? {
        while true {
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if fds[1].revents != 0 { return nil }
            guard fds[0].revents & Int16(POLLIN) != 0 else { continue }
            let fd = accept(listenFD, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                return fd
            }
            // EAGAIN: another worker took it. Anything else (EMFILE…) must not spin.
            if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { usleep(10_000) }
        }
    }

    private func handle(_ raw: inout FCGX_Request) {
        let params = FastCGIParams(raw.envp)
        let contentLength = params.value("CONTENT_LENGTH").flatMap { UInt64($0) }
        let request = Request(
            method: params.value("REQUEST_METHOD") ?? "GET",
            requestURI: params.value("REQUEST_URI") ?? "/",
            headers: params.headers(),
            isTLS: params.value("HTTPS").map { !$0.isEmpty && $0.lowercased() != "off" } ?? false,
            remoteAddress: params.value("REMOTE_ADDR") ?? "",
            id: params.value("REQUEST_ID") ?? makeRequestID(),
            body: FastCGIInput(stream: raw.in, contentLength: contentLength))
        let response = Response(sink: FastCGIOutput(stream: raw.out, fd: raw.ipcFd, requestID: raw.requestId),
                                omitsBody: request.method == "HEAD")
        handler(request, response)
    }
}

/// The request's params (CGI-style environment), walked in full so duplicates survive.
struct FastCGIParams {
    let entries: [(String, String)]

    init(_ envp: FCGX_ParamArray?) {
        var entries: [(String, String)] = []
        var p = envp
        while let entry = p?.pointee {
            // NAME=value; split on the first "=" byte.
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let all = UnsafeBufferPointer(start: bytes, count: length)
                if let eq = all.firstIndex(of: UInt8(ascii: "=")) {
                    entries.append((String(decoding: UnsafeBufferPointer(rebasing: all[..<eq]), as: UTF8.self),
                                    String(decoding: UnsafeBufferPointer(rebasing: all[(eq + 1)...]), as: UTF8.self)))
                }
            }
            p = p?.advanced(by: 1)
        }
        self.entries = entries
    }

    func value(_ name: String) -> String? { entries.first { $0.0 == name }?.1 }

    func headers() -> Headers {
        var headers = Headers()
        for (name, value) in entries {
            // nginx passes Content-Length/-Type both as CONTENT_* and as HTTP_CONTENT_*: keep one.
            if name == "HTTP_CONTENT_LENGTH" || name == "HTTP_CONTENT_TYPE" { continue }
            if name.hasPrefix("HTTP_") {
                headers.add(String(name.dropFirst(5)), value)
            } else if (name == "CONTENT_TYPE" || name == "CONTENT_LENGTH") && !value.isEmpty {
                headers.add(name, value)
            }
        }
        return headers
    }
}

/// Used only when nginx did not pass its own $request_id.
private func makeRequestID() -> String {
    String((0..<16).map { _ in "0123456789ABCDEF".randomElement()! })
}
