public import AviaryCore
import Foundation
import Synchronization

/// Per (function, alias, executed version) metrics of every invocation, in memory, exported for Prometheus
/// with Lambda's metric names and dimensions.
public final class MetricsRecorder: Sendable {
    public struct Key: Hashable, Sendable {
        public let function: FunctionName
        /// The alias invoked, if any (CloudWatch's `Resource` is then `function:alias`).
        public let alias: AliasName?
        public let executedVersion: VersionSelector

        public init(function: FunctionName, alias: AliasName?, executedVersion: VersionSelector) {
            self.function = function
            self.alias = alias
            self.executedVersion = executedVersion
        }
    }

    /// What happened to one request, as an observer sees it.
    public enum Observation: Sendable {
        case invocation(failed: Bool, durationMilliseconds: Double)
        case throttle
    }

    private let series = Mutex<[Key: InvocationMetrics]>([:])
    /// Boxed: a closure stored directly as a Mutex's (generic) value is re-abstracted on every inout
    /// access and grows a chain of thunks, one pair per invocation, until the stack overflows.
    private let observer = Mutex<Observer?>(nil)

    final class Observer: Sendable {
        let body: @Sendable (Key, Observation) -> Void
        init(_ body: @escaping @Sendable (Key, Observation) -> Void) { self.body = body }
    }

    public init() {}

    static var currentSecond: Int64 { Int64(Date().timeIntervalSince1970) }

    /// Calls `body` with every request made through an alias, right after it is recorded, on the
    /// invoking task: the deployment engine judges canaries from it. It must return quickly.
    public func observeAliasInvocations(_ body: @escaping @Sendable (Key, Observation) -> Void) {
        let boxed = Observer(body)
        observer.withLock { $0 = boxed }
    }

    func recordInvocation(_ key: Key, duration: Duration, failed: Bool) {
        let second = Self.currentSecond
        let milliseconds = duration.milliseconds
        series.withLock { $0[key, default: InvocationMetrics()].recordInvocation(at: second, durationMilliseconds: milliseconds, failed: failed) }
        if key.alias != nil, let observer = observer.withLock({ $0 }) {
            observer.body(key, .invocation(failed: failed, durationMilliseconds: milliseconds))
        }
    }

    func recordThrottle(_ key: Key) {
        let second = Self.currentSecond
        series.withLock { $0[key, default: InvocationMetrics()].recordThrottle(at: second) }
        if key.alias != nil, let observer = observer.withLock({ $0 }) { observer.body(key, .throttle) }
    }

    /// A copy of one series.
    public func metrics(for key: Key) -> InvocationMetrics? {
        series.withLock { $0[key] }
    }

    /// The Prometheus text exposition of every series' totals.
    public func prometheusText() -> String {
        let snapshot = series.withLock { $0 }.sorted { "\($0.key.function)\($0.key.alias?.rawValue ?? "")\($0.key.executedVersion)" < "\($1.key.function)\($1.key.alias?.rawValue ?? "")\($1.key.executedVersion)" }
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ value: (InvocationMetrics.Bucket) -> Int) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (key, metrics) in snapshot { lines.append("\(name){\(labels(key))} \(value(metrics.totals))") }
        }
        family("lambda_invocations_total", "counter", "Invocations (CloudWatch Invocations).") { $0.invocations }
        family("lambda_errors_total", "counter", "Invocations that ended in a function error (CloudWatch Errors).") { $0.errors }
        family("lambda_throttles_total", "counter", "Throttled invocation requests (CloudWatch Throttles).") { $0.throttles }
        lines.append("# HELP lambda_duration_milliseconds Time spent in function code (CloudWatch Duration).")
        lines.append("# TYPE lambda_duration_milliseconds histogram")
        for (key, metrics) in snapshot {
            var cumulative = 0
            for (index, bound) in InvocationMetrics.durationBounds.enumerated() {
                cumulative += metrics.totals.durations[index]
                lines.append("lambda_duration_milliseconds_bucket{\(labels(key)),le=\"\(Self.number(bound))\"} \(cumulative)")
            }
            cumulative += metrics.totals.durations.last ?? 0
            lines.append("lambda_duration_milliseconds_bucket{\(labels(key)),le=\"+Inf\"} \(cumulative)")
            lines.append("lambda_duration_milliseconds_sum{\(labels(key))} \(metrics.totals.durationSumMilliseconds)")
            lines.append("lambda_duration_milliseconds_count{\(labels(key))} \(cumulative)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func labels(_ key: Key) -> String {
        let resource = key.alias.map { "\(key.function):\($0)" } ?? key.function.rawValue
        return "function_name=\"\(key.function)\",resource=\"\(resource)\",executed_version=\"\(key.executedVersion)\""
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
