import ArgumentParser
import AviaryCLI

/// The executable's entry point: wiring only, the commands live in `AviaryCLI`.
@main
struct Aviary: AsyncParsableCommand {
    static let configuration = AviaryCommand.configuration
}
