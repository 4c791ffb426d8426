import Logging

/// swift-log's stream handler with the logger's metadata formatted when a line is written, not when it is
/// set: Hummingbird gives every request's logger a request id, and the stream handler re-formatted all
/// its metadata on each such change (sorting, joining: about 2% of the server's time per invocation),
/// although nearly no request logs anything at the default level. Output is the stream handler's own.
struct ServerLogHandler: LogHandler {
    private var output: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        output = StreamLogHandler.standardOutput(label: label)
    }

    var logLevel: Logger.Level {
        get { output.logLevel }
        set { output.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        output.log(event: event)
    }
}
