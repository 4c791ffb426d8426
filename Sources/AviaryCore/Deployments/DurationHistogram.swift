import Foundation

/// Durations counted in log-spaced buckets 10% wide, from 0.1 ms to beyond 15 minutes: percentiles
/// read from it are at most 10% above the true value, whatever the range, in a fixed small array.
public struct DurationHistogram: Sendable, Hashable, Codable {
    static let smallest = 0.1
    static let growth = 1.1
    static let bucketCount = 172  // 0.1 ms × 1.1^171 ≈ 1.1 hours

    public private(set) var counts: [Int32]
    public private(set) var total = 0

    public init() {
        counts = Array(repeating: 0, count: Self.bucketCount)
    }

    static func bucket(_ milliseconds: Double) -> Int {
        guard milliseconds > smallest else { return 0 }
        return min(bucketCount - 1, Int((log(milliseconds / smallest) / log(growth)).rounded(.up)))
    }

    /// The upper bound of a bucket.
    static func bound(_ bucket: Int) -> Double { smallest * pow(growth, Double(bucket)) }

    public mutating func record(milliseconds: Double) {
        counts[Self.bucket(milliseconds)] += 1
        total += 1
    }

    public mutating func add(_ other: DurationHistogram) {
        guard other.total > 0 else { return }
        for index in counts.indices { counts[index] += other.counts[index] }
        total += other.total
    }

    /// The `percentile` (0–100) in milliseconds, as the upper bound of its bucket; nil when empty.
    public func value(atPercentile percentile: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((percentile / 100 * Double(total)).rounded(.up)))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += Int(count)
            if seen >= rank { return Self.bound(index) }
        }
        return Self.bound(Self.bucketCount - 1)
    }
}
