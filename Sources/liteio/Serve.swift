import CSystem
import FastCGI
import Foundation
import Glibc
import S3
import Storage

/// `liteio serve`: the worker pool on the FastCGI socket, until SIGTERM/SIGINT.
enum Serve {
    /// `child`: started by a Supervisor, with the listening socket on fd 0.
    static func run(configPath: String?, child: Bool = false) throws -> Never {
        liteio_disable_core_dumps()  // SSE-C keys pass through this process's memory
        if child { liteio_die_with_parent() }
        var config = try Config.load(path: configPath)
        if child {
            config.listen = "fd:0"
            config.processes = 1
        }
        let errors = config.problems().filter { !$0.hasPrefix("warning") }
        guard errors.isEmpty else { throw CLIError(errors.joined(separator: "\n")) }
        let credentials = try loadCredentials(config.credentialsFile)
        let store = try Store(root: config.dataDir)
        if !child {
            let cleaned = store.cleanTemporaryFiles()
            if cleaned > 0 { log("removed \(cleaned) stale temporary files") }
        }

        guard let address = ListenAddress(config.listen) else { throw CLIError("bad listen address \(config.listen)") }
        if case .unix(let path) = address {
            _ = try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
        }
        let listenFD = try openListener(address, socketMode: mode_t(UInt16(config.socketMode, radix: 8) ?? 0o660))

        // Signals are taken by sigwait below, never by handlers on worker threads.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        if config.processes > 1 {
            supervise(config: config, configPath: configPath, listenFD: listenFD, address: address, store: store,
                      signals: &signals)
        }

        let service = S3Service(
            store: store, credentials: credentials,
            settings: ServiceSettings(region: config.region, baseDomain: config.baseDomain,
                                      allowInsecureSSEC: config.allowInsecureSSEC, minPartSize: config.minPartSize),
            log: AccessLog(enabled: config.accessLog),
            metrics: sharedMetrics(child: child))
        let pool = WorkerPool(listenFD: listenFD, workers: config.workers) { request, response in
            service.handle(request, response)
        }
        pool.start()
        if !child && config.abandonedUploadHours > 0 { sweepAbandonedUploads(store, afterHours: config.abandonedUploadHours) }
        log("serving \(config.listen) with \(config.workers) workers, data in \(config.dataDir)")
        notifySystemd("READY=1")

        waitForSignals(&signals, reload: {
            do {
                service.reload(credentials: try loadCredentials(config.credentialsFile))
                log("reloaded credentials")
            } catch {
                log("reload failed, keeping old credentials: \(error)")
            }
        }, stop: {
            log("stopping: waiting up to \(config.shutdownGraceSeconds)s for \(pool.requestsInFlight) requests")
            let clean = pool.stop(grace: config.shutdownGraceSeconds)
            if case .unix(let path) = address { unlink(path) }
            log(clean ? "stopped" : "grace period over; exiting with requests still running")
        })
    }

    /// Blocks in sigwait: SIGHUP reloads, SIGTERM/SIGINT stop and exit 0.
    static func waitForSignals(_ signals: inout sigset_t, reload: () -> Void, stop: () -> Void) -> Never {
        while true {
            var received: Int32 = 0
            sigwait(&signals, &received)
            if received == SIGHUP {
                reload()
                continue
            }
            notifySystemd("STOPPING=1")
            stop()
            exit(0)
        }
    }

    static let metricsVariable = "LITEIO_METRICS_SHM"

    /// A worker started by the supervisor adds to the supervisor's shared counters.
    static func sharedMetrics(child: Bool) -> Metrics {
        if child, let name = ProcessInfo.processInfo.environment[metricsVariable],
           let shared = Metrics(shared: name, create: false) { return shared }
        return Metrics()
    }

    /// Runs `processes` workers under a Supervisor until SIGTERM/SIGINT.
    static func supervise(config: Config, configPath: String?, listenFD: Int32, address: ListenAddress, store: Store,
                          signals: inout sigset_t) -> Never {
        let metricsName = "/liteio-\(getpid())"
        if Metrics(shared: metricsName, create: true) == nil { log("shared metrics unavailable; each worker counts alone") }
        setenv(metricsVariable, metricsName, 1)  // inherited by the workers
        let supervisor = Supervisor(processes: config.processes, configPath: configPath, listenFD: listenFD)
        do { try supervisor.start() } catch {
            log("cannot start workers: \(error)")
            exit(1)
        }
        if config.abandonedUploadHours > 0 { sweepAbandonedUploads(store, afterHours: config.abandonedUploadHours) }
        log("supervising \(config.processes) worker processes (pids \(supervisor.pids)) on \(config.listen)")
        notifySystemd("READY=1")
        waitForSignals(&signals, reload: { supervisor.signalAll(SIGHUP) }, stop: {
            supervisor.stop(grace: config.shutdownGraceSeconds)
            Metrics.unlinkShared(metricsName)
            if case .unix(let path) = address { unlink(path) }
            log("stopped")
        })
    }

    /// Aborts stale multipart uploads now and then every hour. Any process may do it: the
    /// abort takes the upload's lock, so two sweepers or a racing Complete never clash.
    static func sweepAbandonedUploads(_ store: Store, afterHours hours: Double) {
        let thread = Thread {
            while true {
                let count = store.abortUploads(olderThan: hours * 3600)
                if count > 0 { log("aborted \(count) multipart uploads older than \(hours) hours") }
                Thread.sleep(forTimeInterval: 3600)
            }
        }
        thread.start()
    }

    static func loadCredentials(_ path: String) throws -> Credentials {
        do {
            return try Credentials.load(path: path)
        } catch {
            throw CLIError("cannot read credentials \(path): \(error) (create users with `liteio user add`)")
        }
    }

    /// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET.
    static func notifySystemd(_ state: String) {
        guard var path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        if path.hasPrefix("@") { path = "\0" + path.dropFirst() }  // abstract namespace
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { addr in
                state.withCString { sendto(fd, $0, strlen($0), 0, addr, length) }
            }
        }
    }
}

func log(_ message: String) {
    let line = "{\"level\":\"info\",\"message\":\(String(decoding: (try? JSONEncoder().encode(message)) ?? Data(), as: UTF8.self))}\n"
    FileHandle.standardError.write(Data(line.utf8))
}
