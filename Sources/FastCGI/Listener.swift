import Glibc

/// Where the FastCGI socket comes from.
public enum ListenAddress: Equatable, Sendable {
    case unix(path: String)
    case tcp(host: String, port: UInt16)
    /// An already listening socket: fd 0 (the FastCGI convention) or systemd's fd 3.
    case inherited(fd: Int32)

    /// Parses `unix:/path`, `tcp:host:port`, `fd:N` or `systemd` (socket activation).
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            self = .unix(path: String(text.dropFirst(5)))
        } else if text.hasPrefix("tcp:"), let colon = text.lastIndex(of: ":"),
                  let port = UInt16(text[text.index(after: colon)...]) {
            var host = String(text[text.index(text.startIndex, offsetBy: 4)..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self = .tcp(host: host.isEmpty ? "127.0.0.1" : host, port: port)
        } else if text.hasPrefix("fd:"), let fd = Int32(text.dropFirst(3)) {
            self = .inherited(fd: fd)
        } else if text == "systemd" {
            self = .inherited(fd: 3)  // SD_LISTEN_FDS_START
        } else {
            return nil
        }
    }
}

public struct ListenError: Error, CustomStringConvertible {
    public let description: String
}

/// Opens (or adopts) the listening socket. The socket is non-blocking so that idle workers
/// can wait in poll() and notice shutdown; accepted connections are blocking.
public func openListener(_ address: ListenAddress, socketMode: mode_t = 0o660) throws -> Int32 {
    let fd: Int32
    switch address {
    case .inherited(let inherited):
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(inherited, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
            throw ListenError(description: "fd \(inherited) is not a socket")
        }
        fd = inherited
    case .unix(let path):
        fd = try openUnix(path: path, mode: socketMode)
    case .tcp(let host, let port):
        fd = try openTCP(host: host, port: port)
    }
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    return fd
}

private func openUnix(path: String, mode: mode_t) throws -> Int32 {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
        throw ListenError(description: "socket path too long: \(path)")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
    let length = socklen_t(MemoryLayout<sockaddr_un>.size)

    // A live server on this path is an operator mistake; a stale file is a leftover of a crash.
    // (libfcgi's FCGX_OpenSocket unlinks unconditionally and silently steals the path.)
    let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    let alive = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, length) == 0 }
    }
    close(probe)
    if alive { throw ListenError(description: "another server is listening on \(path)") }
    unlink(path)

    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
    }
    guard bound, chmod(path, mode) == 0, listen(fd, 1024) == 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw ListenError(description: "cannot listen on \(path): \(reason)")
    }
    return fd
}

private func openTCP(host: String, port: UInt16) throws -> Int32 {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST
    var result: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
        throw ListenError(description: "bad listen address \(host):\(port)")
    }
    defer { freeaddrinfo(result) }
    let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var on: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
    guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 1024) == 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw ListenError(description: "cannot listen on \(host):\(port): \(reason)")
    }
    return fd
}
