import Foundation

/// liteio's settings. Every field has an embedded default, so liteio runs with no file at all;
/// a JSON file (`--config`) overrides any subset.
struct Config: Decodable {
    var dataDir = ".liteio/data"
    /// `unix:PATH`, `tcp:HOST:PORT`, `fd:N` or `systemd`.
    var listen = "unix:.liteio/run/liteio.sock"
    var workers = 16
    /// Worker processes under a supervisor; 1 serves in the main process.
    var processes = 2
    var credentialsFile = ".liteio/credentials.json"
    var region = "us-east-1"
    /// Enables virtual-host-style addressing for `bucket.<baseDomain>`.
    var baseDomain: String?
    /// Lets SSE-C requests through without TLS. Only for loopback test set-ups: the key
    /// would cross the network in clear text.
    var allowInsecureSSEC = false
    var shutdownGraceSeconds = 30.0
    /// Octal permissions of a unix socket liteio creates itself.
    var socketMode = "0660"
    var accessLog = true
    /// Smallest multipart part but the last, in bytes (S3: 5 MiB).
    var minPartSize: UInt64 = 5 << 20
    /// Multipart uploads not completed within this many hours are aborted (0: never).
    var abandonedUploadHours = 7.0 * 24

    static let embeddedDefault = Config()

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Config()
        dataDir = try c.decodeIfPresent(String.self, forKey: .dataDir) ?? d.dataDir
        listen = try c.decodeIfPresent(String.self, forKey: .listen) ?? d.listen
        workers = try c.decodeIfPresent(Int.self, forKey: .workers) ?? d.workers
        processes = try c.decodeIfPresent(Int.self, forKey: .processes) ?? d.processes
        credentialsFile = try c.decodeIfPresent(String.self, forKey: .credentialsFile) ?? d.credentialsFile
        region = try c.decodeIfPresent(String.self, forKey: .region) ?? d.region
        baseDomain = try c.decodeIfPresent(String.self, forKey: .baseDomain)
        allowInsecureSSEC = try c.decodeIfPresent(Bool.self, forKey: .allowInsecureSSEC) ?? d.allowInsecureSSEC
        shutdownGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .shutdownGraceSeconds) ?? d.shutdownGraceSeconds
        socketMode = try c.decodeIfPresent(String.self, forKey: .socketMode) ?? d.socketMode
        accessLog = try c.decodeIfPresent(Bool.self, forKey: .accessLog) ?? d.accessLog
        minPartSize = try c.decodeIfPresent(UInt64.self, forKey: .minPartSize) ?? d.minPartSize
        abandonedUploadHours = try c.decodeIfPresent(Double.self, forKey: .abandonedUploadHours) ?? d.abandonedUploadHours
    }

    private enum CodingKeys: String, CodingKey {
        case dataDir, listen, workers, processes, credentialsFile, region, baseDomain, allowInsecureSSEC,
             shutdownGraceSeconds, socketMode, accessLog, minPartSize, abandonedUploadHours
    }

    static func load(path: String?) throws -> Config {
        guard let path else { return .embeddedDefault }
        do {
            return try JSONDecoder().decode(Config.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CLIError("cannot read config \(path): \(error)")
        }
    }

    /// Problems an operator should hear about before serving.
    func problems() -> [String] {
        var out: [String] = []
        if workers < 1 || workers > 1024 { out.append("workers must be between 1 and 1024") }
        if processes < 1 || processes > 256 { out.append("processes must be between 1 and 256") }
        if UInt16(socketMode, radix: 8) == nil { out.append("socketMode must be octal, e.g. \"0660\"") }
        if shutdownGraceSeconds < 0 { out.append("shutdownGraceSeconds must not be negative") }
        if !listen.hasPrefix("unix:") && !listen.hasPrefix("tcp:") && !listen.hasPrefix("fd:") && listen != "systemd" {
            out.append("listen must be unix:PATH, tcp:HOST:PORT, fd:N or systemd")
        }
        if allowInsecureSSEC { out.append("warning: allowInsecureSSEC is on; SSE-C keys may cross the network unencrypted") }
        return out
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
