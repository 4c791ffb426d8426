/// An absolute check on the new version's live metrics, in the manner of a CloudWatch alarm: the
/// window is cut into `evaluationPeriods` periods ending now; each period with data is a datapoint that
/// breaches when its value is at or above `threshold`; `datapointsToAlarm` breaching datapoints fail
/// the deployment. Periods without data count as `missingData` says.
public struct HealthRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What a datapoint measures.
    public enum Metric: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Errors / invocations, in [0, 1].
        case errorRate
        /// Function errors (handler errors, timeouts, crashes).
        case errors
        /// Invocations refused with 429.
        case throttles
        /// The given percentile (0 < p < 100) of the duration, in milliseconds.
        case durationPercentile(Double)

        public var description: String {
            switch self {
            case .errorRate: "error-rate"
            case .errors: "errors"
            case .throttles: "throttles"
            case .durationPercentile(let p): "p" + Self.number(p)
            }
        }

        static func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        }

        public init?(_ text: some StringProtocol) {
            switch text.lowercased() {
            case "error-rate", "errorrate", "error_rate": self = .errorRate
            case "errors": self = .errors
            case "throttles": self = .throttles
            default:
                let lower = text.lowercased()
                guard lower.first == "p", let p = Double(lower.dropFirst()), p > 0, p < 100 else { return nil }
                self = .durationPercentile(p)
            }
        }

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let metric = Metric(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "metric \(text)"))
            }
            self = metric
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }

        /// Rates and percentiles of a handful of invocations are noise; counts are not.
        var defaultMinimumInvocations: Int {
            switch self {
            case .errorRate, .durationPercentile: 10
            case .errors, .throttles: 1
            }
        }
    }

    /// CloudWatch's `TreatMissingData`.
    public enum MissingData: String, Sendable, Hashable, Codable, CaseIterable {
        /// A period without data is no datapoint at all.
        case missing
        /// A period without data breaches.
        case breaching
        /// A period without data is healthy.
        case notBreaching
        /// Same as `missing` here: a deployment has no earlier alarm state to keep.
        case ignore
    }

    public let metric: Metric
    /// Fractions for `errorRate` (0.05 = 5%), counts, or milliseconds.
    public let threshold: Double
    public let periodMilliseconds: Int64
    public let evaluationPeriods: Int
    public let datapointsToAlarm: Int
    public let missingData: MissingData
    /// A period with fewer invocations than this has no datapoint.
    public let minimumInvocations: Int

    public init(
        metric: Metric, threshold: Double, periodMilliseconds: Int64 = 60_000, evaluationPeriods: Int = 1,
        datapointsToAlarm: Int? = nil, missingData: MissingData = .missing, minimumInvocations: Int? = nil
    ) throws(DeploymentError) {
        guard threshold.isFinite, threshold >= 0 else {
            throw .invalidHealthPolicy("a threshold must be a number of at least 0, not \(threshold)")
        }
        if metric == .errorRate, threshold > 1 {
            throw .invalidHealthPolicy("an error-rate threshold is a fraction or a percentage up to 100%")
        }
        guard periodMilliseconds >= 1000, periodMilliseconds % 1000 == 0, periodMilliseconds <= 86_400_000 else {
            throw .invalidHealthPolicy("a period is whole seconds between 1s and 24h")
        }
        guard (1...1440).contains(evaluationPeriods) else {
            throw .invalidHealthPolicy("evaluation periods must be between 1 and 1440")
        }
        let datapoints = datapointsToAlarm ?? evaluationPeriods
        guard (1...evaluationPeriods).contains(datapoints) else {
            throw .invalidHealthPolicy("datapoints to alarm must be between 1 and the evaluation periods (\(evaluationPeriods))")
        }
        let minimum = minimumInvocations ?? metric.defaultMinimumInvocations
        guard minimum >= 1 else { throw .invalidHealthPolicy("the minimum invocations per datapoint must be at least 1") }
        self.metric = metric
        self.threshold = threshold
        self.periodMilliseconds = periodMilliseconds
        self.evaluationPeriods = evaluationPeriods
        self.datapointsToAlarm = datapoints
        self.missingData = missingData
        self.minimumInvocations = minimum
    }

    /// The rule in the form `parse` reads: `error-rate>=5%@1m:2/3,missing=breaching,min=20`.
    public var description: String {
        var text = "\(metric)>=\(thresholdText)@\(DurationText.format(milliseconds: periodMilliseconds))"
        if evaluationPeriods != 1 || datapointsToAlarm != 1 { text += ":\(datapointsToAlarm)/\(evaluationPeriods)" }
        if missingData != .missing { text += ",missing=\(missingData.rawValue)" }
        if minimumInvocations != metric.defaultMinimumInvocations { text += ",min=\(minimumInvocations)" }
        return text
    }

    var thresholdText: String {
        switch metric {
        case .errorRate: Strategy.percentText(threshold * 100)
        case .errors, .throttles: Metric.number(threshold)
        case .durationPercentile: DurationText.format(milliseconds: Int64(threshold.rounded()))
        }
    }

    /// Reads `<metric>>=<threshold>[@<period>][:<M>/<N>][,missing=<treatment>][,min=<invocations>]`:
    /// `errors>=1`, `error-rate>=5%@1m`, `p99>=500ms@30s:2/3,missing=breaching`.
    public static func parse(_ text: String) throws(DeploymentError) -> HealthRule {
        let usage = "write a rule as <metric>>=<threshold>[@<period>][:<M>/<N>][,missing=…][,min=…], such as error-rate>=5%@1m or p99>=500ms@30s:2/3; got \(text)"
        var options = text.trimmingSpaces.split(separator: ",").map { String($0).trimmingSpaces }
        guard !options.isEmpty else { throw .invalidHealthPolicy(usage) }
        let head = options.removeFirst()
        // Only `>=`: a datapoint breaches at or above the threshold, as in most deployment alarms.
        guard let sign = head.firstIndex(of: ">"), head[head.index(after: sign)...].first == "=",
            let metric = Metric(head[..<sign].trimmingSpaces)
        else { throw .invalidHealthPolicy(usage) }
        var rest = head[head.index(sign, offsetBy: 2)...]
        var periods = (datapoints: 1, of: 1)
        if let colon = rest.lastIndex(of: ":") {
            let counts = rest[rest.index(after: colon)...].split(separator: "/")
            guard counts.count == 2, let m = Int(counts[0]), let n = Int(counts[1]) else { throw .invalidHealthPolicy(usage) }
            periods = (m, n)
            rest = rest[..<colon]
        }
        var period: Int64 = 60_000
        if let at = rest.firstIndex(of: "@") {
            guard let parsed = DurationText.milliseconds(rest[rest.index(after: at)...]) else { throw .invalidHealthPolicy(usage) }
            period = parsed
            rest = rest[..<at]
        }
        let thresholdText = rest.trimmingSpaces
        let threshold: Double?
        switch metric {
        case .errorRate:
            threshold = Strategy.parsePercent(thresholdText).map { $0 / 100 } ?? Double(thresholdText)
        case .errors, .throttles:
            threshold = Double(thresholdText)
        case .durationPercentile:
            threshold = DurationText.milliseconds(thresholdText).map(Double.init)
        }
        guard let threshold else { throw .invalidHealthPolicy(usage) }
        var missing = MissingData.missing
        var minimum: Int?
        for option in options {
            let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
            switch (pair.first, pair.count == 2 ? pair[1] : nil) {
            case ("missing", let value?):
                guard let treatment = MissingData(rawValue: value) else {
                    throw .invalidHealthPolicy("missing= takes \(MissingData.allCases.map(\.rawValue).joined(separator: ", ")); got \(value)")
                }
                missing = treatment
            case ("min", let value?):
                guard let count = Int(value) else { throw .invalidHealthPolicy(usage) }
                minimum = count
            default:
                throw .invalidHealthPolicy(usage)
            }
        }
        return try HealthRule(
            metric: metric, threshold: threshold, periodMilliseconds: period, evaluationPeriods: periods.of,
            datapointsToAlarm: periods.datapoints, missingData: missing, minimumInvocations: minimum)
    }
}
