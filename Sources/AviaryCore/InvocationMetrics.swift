/// What one (function, alias, executed version) did, second by second: the input of canary analysis and
/// of `/metrics`.
///
/// Pure bookkeeping: times come in as arguments. Keeps the last `retention` seconds in per-second buckets
/// plus running totals since start.
public struct InvocationMetrics: Sendable {
    /// Upper bounds of the duration buckets, in milliseconds (the last bucket is everything above).
    public static let durationBounds: [Double] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000]

    public struct Bucket: Sendable, Equatable {
        public var second: Int64
        public var invocations = 0
        public var errors = 0
        public var throttles = 0
        /// Counts per `durationBounds` slot, plus one for the overflow.
        public var durations = [Int](repeating: 0, count: InvocationMetrics.durationBounds.count + 1)
        public var durationSumMilliseconds = 0.0
    }

    public let retention: Int
    public private(set) var buckets: [Bucket] = []
    public private(set) var totals = Bucket(second: 0)

    public init(retention: Int = 3600) {
        self.retention = retention
    }

    /// A finished invocation; `failed` for any function error (handler, timeout, crash).
    public mutating func recordInvocation(at second: Int64, durationMilliseconds: Double, failed: Bool) {
        update(second) { bucket in
            bucket.invocations += 1
            if failed { bucket.errors += 1 }
            let slot = Self.durationBounds.firstIndex { durationMilliseconds <= $0 } ?? Self.durationBounds.count
            bucket.durations[slot] += 1
            bucket.durationSumMilliseconds += durationMilliseconds
        }
    }

    public mutating func recordThrottle(at second: Int64) {
        update(second) { $0.throttles += 1 }
    }

    /// Buckets of the seconds in `range` (missing seconds had no activity).
    public func buckets(in range: ClosedRange<Int64>) -> [Bucket] {
        buckets.filter { range.contains($0.second) }
    }

    private mutating func update(_ second: Int64, _ change: (inout Bucket) -> Void) {
        if let index = buckets.lastIndex(where: { $0.second == second }) {
            change(&buckets[index])
        } else {
            var bucket = Bucket(second: second)
            change(&bucket)
            let position = buckets.firstIndex { $0.second > second } ?? buckets.endIndex
            buckets.insert(bucket, at: position)
            if let newest = buckets.last?.second {
                buckets.removeAll { $0.second <= newest - Int64(retention) }
            }
        }
        change(&totals)
    }
}
