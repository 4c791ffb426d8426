import ArgumentParser
import AviaryCLI
import NIOCore
import NIOPosix

/// The executable's entry point: wiring only, the commands live in `AviaryCLI`.
@main
struct Aviary {
    static func main() async {
        // Run Swift concurrency on NIO's event loops: request handlers then need no thread hop between
        // the socket's event loop and the cooperative pool (measured in docs/benchmarks.md).
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await AviaryCommand.runAsRoot()
    }
}
