/// How a deployment shifts traffic: a list of steps, each holding the new version at a weight for a
/// while; after the last step the alias is promoted to the new version.
///
/// The nine CodeDeploy presets are strategies by their names; custom ones are written
/// `canary:10%:5m`, `linear:10%:1m`, `steps:1%@2m,10%@5m,50%@5m` or `all-at-once`.
public struct Strategy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Hold the new version at `weight` for `milliseconds`.
    public struct Step: Sendable, Hashable, Codable {
        public let weight: Weight
        public let milliseconds: Int64

        public init(weight: Weight, milliseconds: Int64) {
            self.weight = weight
            self.milliseconds = milliseconds
        }
    }

    /// The name it was given by (a preset's CodeDeploy name without the prefix, or the custom spec).
    public let name: String
    /// Weights strictly between 0 and 1; empty for all-at-once.
    public let steps: [Step]

    public var description: String { name }

    /// When, counted from the first shift of traffic, the alias is promoted if every step passes on time.
    public var promotionAfterMilliseconds: Int64 { steps.reduce(0) { $0 + $1.milliseconds } }

    /// The weight of the new version `elapsed` milliseconds after the first shift (1 once promoted).
    public func weight(afterMilliseconds elapsed: Int64) -> Double {
        var end: Int64 = 0
        for step in steps {
            end += step.milliseconds
            if elapsed < end { return step.weight.value }
        }
        return 1
    }

    init(name: String, steps: [Step]) {
        self.name = name
        self.steps = steps
    }

    /// A canary: `percent` for `milliseconds`, then everything.
    public static func canary(percent: Double, milliseconds: Int64, name: String? = nil) throws(DeploymentError) -> Strategy {
        let weight = try stepWeight(percent)
        try requirePositive(milliseconds)
        return Strategy(
            name: name ?? "canary:\(percentText(percent)):\(DurationText.format(milliseconds: milliseconds))",
            steps: [Step(weight: weight, milliseconds: milliseconds)])
    }

    /// Linear: `percent` more every `milliseconds` until the next increment would reach 100%, then
    /// everything (so 10% every minute promotes after nine minutes).
    public static func linear(percent: Double, milliseconds: Int64, name: String? = nil) throws(DeploymentError) -> Strategy {
        _ = try stepWeight(percent)
        try requirePositive(milliseconds)
        guard 100 / percent <= Double(maxSteps) else {
            throw .invalidStrategy("linear:\(percentText(percent)) would take more than \(maxSteps) steps; use a larger percentage")
        }
        var steps: [Step] = []
        var index = 1
        // Integer steps of the percentage avoid 0.1+0.2 drift: 30% is 3 × 10%, not 0.30000000000000004.
        while percent * Double(index) < 100 - 1e-9 {
            steps.append(Step(weight: Weight((percent * Double(index)) / 100)!, milliseconds: milliseconds))
            index += 1
        }
        return Strategy(
            name: name ?? "linear:\(percentText(percent)):\(DurationText.format(milliseconds: milliseconds))", steps: steps)
    }

    /// Everything at once: no steps, promotion right after the pre-traffic hook.
    public static let allAtOnce = Strategy(name: "all-at-once", steps: [])

    /// Explicit steps, in order; weights must increase.
    public static func steps(_ steps: [(percent: Double, milliseconds: Int64)]) throws(DeploymentError) -> Strategy {
        guard !steps.isEmpty else { throw .invalidStrategy("steps: needs at least one step, such as steps:1%@2m,10%@5m") }
        guard steps.count <= maxSteps else { throw .invalidStrategy("a strategy has at most \(maxSteps) steps") }
        var parsed: [Step] = []
        for (percent, milliseconds) in steps {
            let weight = try stepWeight(percent)
            try requirePositive(milliseconds)
            if let previous = parsed.last, previous.weight >= weight {
                throw .invalidStrategy("steps must increase in weight: \(percentText(percent)) follows \(percentText(previous.weight.value * 100))")
            }
            parsed.append(Step(weight: weight, milliseconds: milliseconds))
        }
        let name = "steps:" + parsed.map { "\(percentText($0.weight.value * 100))@\(DurationText.format(milliseconds: $0.milliseconds))" }.joined(separator: ",")
        return Strategy(name: name, steps: parsed)
    }

    static func stepWeight(_ percent: Double) throws(DeploymentError) -> Weight {
        guard percent > 0, percent < 100, let weight = Weight(percent / 100) else {
            throw .invalidStrategy("a step's percentage must be above 0% and below 100%, not \(percentText(percent))")
        }
        return weight
    }

    static func requirePositive(_ milliseconds: Int64) throws(DeploymentError) {
        guard milliseconds > 0 else { throw .invalidStrategy("a step must last longer than 0s") }
    }

    /// `10%`, `0.5%`, `12.3456%`: exact, so a strategy's name parses back to the same strategy.
    public static func percentText(_ percent: Double) -> String {
        (percent == percent.rounded() && abs(percent) < 1e15 ? String(Int(percent)) : String(percent)) + "%"
    }

    /// More steps than anyone schedules; it bounds the work a strategy can ask for.
    static let maxSteps = 1000
}

extension Strategy {
    /// The CodeDeploy predefined configurations for Lambda, by their short names.
    public static let presets: [String: Strategy] = {
        var presets: [String: Strategy] = ["AllAtOnce": Strategy(name: "AllAtOnce", steps: [])]
        for minutes in [5, 10, 15, 30] {
            let name = "Canary10Percent\(minutes)Minutes"
            presets[name] = try! canary(percent: 10, milliseconds: Int64(minutes) * 60_000, name: name)
        }
        for minutes in [1, 2, 3, 10] {
            let name = "Linear10PercentEvery\(minutes)Minute" + (minutes == 1 ? "" : "s")
            presets[name] = try! linear(percent: 10, milliseconds: Int64(minutes) * 60_000, name: name)
        }
        return presets
    }()

    static let codeDeployPrefix = "CodeDeployDefault.Lambda"

    /// Parses a strategy as written on the command line or in the API.
    public static func parse(_ text: String) throws(DeploymentError) -> Strategy {
        let trimmed = text.trimmingSpaces
        let short = trimmed.hasPrefix(codeDeployPrefix) ? String(trimmed.dropFirst(codeDeployPrefix.count)) : trimmed
        if let preset = presets[short] { return preset }
        if short == "all-at-once" { return .allAtOnce }
        let parts = short.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw .unknownStrategy(text) }
        switch parts[0] {
        case "canary", "linear":
            let fields = parts[1].split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2, let percent = parsePercent(fields[0]), let milliseconds = DurationText.milliseconds(fields[1]) else {
                throw .invalidStrategy("\(parts[0]) is written \(parts[0]):<percent>%:<interval>, such as \(parts[0]):10%:5m; got \(text)")
            }
            return parts[0] == "canary"
                ? try canary(percent: percent, milliseconds: milliseconds)
                : try linear(percent: percent, milliseconds: milliseconds)
        case "steps":
            if parts[1].isEmpty { return try self.steps([]) }
            var steps: [(Double, Int64)] = []
            for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let fields = item.split(separator: "@", omittingEmptySubsequences: false)
                guard fields.count == 2, let percent = parsePercent(fields[0]), let milliseconds = DurationText.milliseconds(fields[1]) else {
                    throw .invalidStrategy("steps are written steps:<percent>%@<duration>,…, such as steps:1%@2m,10%@5m; got \(text)")
                }
                steps.append((percent, milliseconds))
            }
            return try self.steps(steps)
        default:
            throw .unknownStrategy(text)
        }
    }

    static func parsePercent(_ text: some StringProtocol) -> Double? {
        guard text.hasSuffix("%"), let value = Double(text.dropLast()), value.isFinite else { return nil }
        return value
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
