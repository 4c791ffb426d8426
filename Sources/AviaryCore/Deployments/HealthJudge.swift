/// Judges a deployment's new version on its live invocations: the absolute rules and the sequential
/// comparison of a `HealthPolicy`, plus the evidence count of the current step.
///
/// Pure: the engine feeds it every finished invocation of the alias under deployment (with the weight
/// it was routed under) and asks for a verdict right after, so a decisive failure is acted on at once.
public struct HealthJudge: Sendable {
    public enum Role: String, Sendable, Codable {
        /// The version being deployed.
        case canary
        /// The version the alias is moving away from.
        case baseline
    }

    /// One second of the new version's traffic.
    struct Second: Sendable {
        var invocations = 0
        var errors = 0
        var throttles = 0
        var durations: DurationHistogram?
        /// Per rule: invocations at or above its duration threshold (percentile rules only), so that
        /// "pNN ≥ threshold" is decided exactly rather than from a bucket's bound.
        var slow: [Int] = []
    }

    public let policy: HealthPolicy
    private var seconds: [Int64: Second] = [:]
    private let retentionSeconds: Int64
    private var canary = VersionHealth()
    private var baseline = VersionHealth()
    private var comparison: SequentialTest?
    private let keepsDurations: Bool
    /// The duration threshold of each rule (nil for rules on other metrics).
    private let slowThresholds: [Double?]
    /// Invocations of the new version since the current step began.
    public private(set) var stepInvocations = 0

    public init(policy: HealthPolicy) {
        self.policy = policy
        self.comparison = policy.comparison.map(SequentialTest.init)
        self.retentionSeconds = policy.rules.map { $0.periodMilliseconds / 1000 * Int64($0.evaluationPeriods) }.max() ?? 1
        self.slowThresholds = policy.rules.map { if case .durationPercentile = $0.metric { $0.threshold } else { nil } }
        self.keepsDurations = slowThresholds.contains { $0 != nil }
    }

    /// A new step starts: its evidence count starts from zero (health history is kept).
    public mutating func startStep() {
        stepInvocations = 0
    }

    /// A finished invocation of either version; `weight` is the new version's share when it was routed.
    public mutating func recordInvocation(
        _ role: Role, failed: Bool, durationMilliseconds: Double, weight: Double, at now: Timestamp
    ) {
        if failed { comparison?.recordError(onCanary: role == .canary, weight: weight) }
        switch role {
        case .baseline:
            baseline.record(failed: failed, durationMilliseconds: durationMilliseconds)
        case .canary:
            canary.record(failed: failed, durationMilliseconds: durationMilliseconds)
            stepInvocations += 1
            let (keepsDurations, thresholds) = (keepsDurations, slowThresholds)
            update(now) { second in
                second.invocations += 1
                if failed { second.errors += 1 }
                if keepsDurations {
                    if second.durations == nil {
                        second.durations = DurationHistogram()
                        second.slow = Array(repeating: 0, count: thresholds.count)
                    }
                    second.durations?.record(milliseconds: durationMilliseconds)
                    for (index, threshold) in thresholds.enumerated() where threshold.map({ durationMilliseconds >= $0 }) == true {
                        second.slow[index] += 1
                    }
                }
            }
        }
    }

    /// A throttled request routed to either version.
    public mutating func recordThrottle(_ role: Role, at now: Timestamp) {
        switch role {
        case .baseline: baseline.throttles += 1
        case .canary:
            canary.throttles += 1
            update(now) { $0.throttles += 1 }
        }
    }

    private mutating func update(_ now: Timestamp, _ change: (inout Second) -> Void) {
        let second = now.millisecondsSince1970 / 1000
        change(&seconds[second, default: Second()])
        if seconds.count > retentionSeconds + 2 {
            seconds = seconds.filter { $0.key > second - retentionSeconds }
        }
    }

    /// The first check the new version fails at `now`, or nil while it is healthy.
    public func finding(at now: Timestamp) -> HealthFinding? {
        if let comparison, comparison.rejectsEquality {
            return HealthFinding(
                check: "comparison",
                detail: "the new version fails more often than the old one: \(comparison.canaryErrors) errors on the "
                    + "new version against \(comparison.baselineErrors) on the old, evidence "
                    + "\(Self.rounded(comparison.evidence)) ≥ \(Self.rounded(1 / comparison.settings.alpha)) "
                    + "(false-alarm chance ≤ \(Strategy.percentText(comparison.settings.alpha * 100)))")
        }
        for index in policy.rules.indices {
            if let finding = evaluate(index, at: now) { return finding }
        }
        return nil
    }

    /// One period's value and whether it breaches.
    struct Datapoint {
        let value: Double
        let breaching: Bool
    }

    /// Rule `index`'s datapoints, newest first: nil for a period without (enough) data.
    func datapoints(_ index: Int, at now: Timestamp) -> [Datapoint?] {
        let rule = policy.rules[index]
        let nowSecond = now.millisecondsSince1970 / 1000
        let periodSeconds = rule.periodMilliseconds / 1000
        return (0..<Int64(rule.evaluationPeriods)).map { period -> Datapoint? in
            let newest = nowSecond - period * periodSeconds
            var total = Second()
            // Durations are merged only for a percentile rule: the others need counts alone.
            var durations: DurationHistogram? = slowThresholds[index] != nil ? DurationHistogram() : nil
            var slow = 0
            for second in (newest - periodSeconds + 1)...newest {
                guard let bucket = seconds[second] else { continue }
                total.invocations += bucket.invocations
                total.errors += bucket.errors
                total.throttles += bucket.throttles
                if durations != nil, let histogram = bucket.durations {
                    durations?.add(histogram)
                    slow += bucket.slow[index]
                }
            }
            switch rule.metric {
            case .errors, .throttles:
                guard total.invocations + total.throttles >= rule.minimumInvocations else { return nil }
                let count = Double(rule.metric == .errors ? total.errors : total.throttles)
                return Datapoint(value: count, breaching: count >= rule.threshold)
            case .errorRate:
                guard total.invocations >= rule.minimumInvocations else { return nil }
                let rate = Double(total.errors) / Double(total.invocations)
                return Datapoint(value: rate, breaching: rate >= rule.threshold)
            case .durationPercentile(let p):
                guard total.invocations >= rule.minimumInvocations, let estimate = durations?.value(atPercentile: p) else { return nil }
                // The p-th percentile is at or above the threshold exactly when fewer than its rank of the
                // invocations were faster than the threshold.
                let rank = max(1, Int((p / 100 * Double(total.invocations)).rounded(.up)))
                return Datapoint(value: estimate, breaching: total.invocations - slow < rank)
            }
        }
    }

    func evaluate(_ index: Int, at now: Timestamp) -> HealthFinding? {
        let rule = policy.rules[index]
        let points = datapoints(index, at: now)
        var breaching = points.compactMap { $0 }.filter(\.breaching).count
        if rule.missingData == .breaching { breaching += points.filter { $0 == nil }.count }
        guard breaching >= rule.datapointsToAlarm else { return nil }
        let values = points.map { $0.map { Self.rounded($0.value) } ?? "-" }.joined(separator: " ")
        return HealthFinding(
            check: rule.description,
            detail: "\(breaching) of \(rule.evaluationPeriods) datapoints breached \(rule.metric) ≥ \(rule.thresholdText) "
                + "(newest first: \(values))")
    }

    /// What both versions did since the judge started, for status pages and the rollback record.
    public func report(at now: Timestamp) -> HealthReport {
        HealthReport(
            canary: canary, baseline: baseline, comparisonEvidence: comparison?.evidence,
            stepInvocations: stepInvocations, finding: finding(at: now), at: now)
    }

    static func rounded(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        if abs(value) >= 1000 { return String(Int(value.rounded())) }
        return String((value * 1000).rounded() / 1000)
    }
}

/// Why a health check failed.
public struct HealthFinding: Sendable, Hashable, Codable {
    /// The check: a rule in its written form, or `comparison`.
    public let check: String
    public let detail: String

    public init(check: String, detail: String) {
        self.check = check
        self.detail = detail
    }
}

/// Running totals of one version's invocations during a deployment.
public struct VersionHealth: Sendable, Hashable, Codable {
    public var invocations = 0
    public var errors = 0
    public var throttles = 0
    public var durations = DurationHistogram()

    public init() {}

    mutating func record(failed: Bool, durationMilliseconds: Double) {
        invocations += 1
        if failed { errors += 1 }
        durations.record(milliseconds: durationMilliseconds)
    }

    public var errorRate: Double? { invocations > 0 ? Double(errors) / Double(invocations) : nil }
    public var p99Milliseconds: Double? { durations.value(atPercentile: 99) }
}

/// A snapshot of a deployment's health: kept with every decision so that "why did it roll back?" has
/// an answer later.
public struct HealthReport: Sendable, Hashable, Codable {
    public let canary: VersionHealth
    public let baseline: VersionHealth
    public let comparisonEvidence: Double?
    public let stepInvocations: Int
    public let finding: HealthFinding?
    /// When the figures were taken (for a failing verdict: right after the decisive invocation).
    public let at: Timestamp?

    public init(
        canary: VersionHealth, baseline: VersionHealth, comparisonEvidence: Double?, stepInvocations: Int,
        finding: HealthFinding?, at: Timestamp? = nil
    ) {
        self.canary = canary
        self.baseline = baseline
        self.comparisonEvidence = comparisonEvidence
        self.stepInvocations = stepInvocations
        self.finding = finding
        self.at = at
    }
}
