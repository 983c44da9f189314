import CSystem
import Foundation
import Glibc
import Synchronization

/// Several worker processes on one listening socket. A Swift trap takes down a whole process,
/// so a crash costs only that process's in-flight requests: the supervisor starts a
/// replacement at once. It forwards SIGHUP (reload) and SIGTERM (drain, then exit).
final class Supervisor: Sendable {
    private let processes: Int
    private let arguments: [String]
    private let listenFD: Int32
    private let executable: String
    private let children = Mutex<[Int: Process]>([:])
    private let stopping = Atomic<Bool>(false)

    init(processes: Int, configPath: String?, listenFD: Int32) {
        self.processes = processes
        self.listenFD = listenFD
        arguments = (configPath.map { ["--config", $0] } ?? []) + ["serve", "--child"]
        executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    func start() throws {
        for slot in 0..<processes { try spawn(slot) }
    }

    private func spawn(_ slot: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // The FastCGI convention: a worker finds its listening socket on fd 0.
        process.standardInput = FileHandle(fileDescriptor: listenFD, closeOnDealloc: false)
        process.terminationHandler = { [self] ended in
            guard !stopping.load(ordering: .relaxed) else { return }
            log("worker process \(ended.processIdentifier) (slot \(slot)) ended with status \(ended.terminationStatus); starting another")
            usleep(100_000)  // a worker that dies at start must not spin the CPU
            do { try spawn(slot) } catch { log("cannot start worker: \(error)") }
        }
        try process.run()
        children.withLock { $0[slot] = process }
    }

    func signalAll(_ signal: Int32) {
        for process in children.withLock({ Array($0.values) }) where process.isRunning {
            kill(process.processIdentifier, signal)
        }
    }

    /// Stops respawning, asks every worker to drain and waits for them (up to `grace`).
    func stop(grace: Double) {
        stopping.store(true, ordering: .relaxed)
        signalAll(SIGTERM)
        let deadline = Date().addingTimeInterval(grace + 5)
        while children.withLock({ $0.values.contains { $0.isRunning } }) && Date() < deadline { usleep(20_000) }
        signalAll(SIGKILL)
    }

    var pids: [Int32] { children.withLock { $0.values.map(\.processIdentifier) } }
}
