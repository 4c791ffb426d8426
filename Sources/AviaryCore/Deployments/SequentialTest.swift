import Foundation

/// An always-valid sequential test of "the new version fails more often than the old one", run on
/// every failed invocation of either version while both take traffic.
///
/// While the alias sends a share `w` of requests to the new version, an error comes from the new
/// version with probability `w` if both fail equally often, and with probability
/// `q = k·w / (k·w + 1 − w)` if the new one fails `k` times as often. Multiplying the ratio of those
/// probabilities over the errors seen gives a likelihood ratio that, under "equally often", is a
/// non-negative martingale with mean 1 whatever the weights were; averaging it over several `k` (a
/// mixture) keeps that property. By Ville's inequality it ever reaches `1/α` with probability at most
/// `α`, however long the test watches: checking after every request costs no extra false alarms.
/// A clearly broken version (all its requests failing, old one clean) is stopped after its third
/// error at a 10% canary; a merely noisy one never gathers the evidence.
///
/// Only errors count, so the test needs neither error rates nor request counts, and it is fair when
/// weights change between steps (each error uses the weight it was routed under).
public struct SequentialTest: Sendable, Hashable {
    public struct Settings: Sendable, Hashable, Codable {
        /// The largest chance, over the whole deployment, of stopping a version that is as good as the old.
        public var alpha: Double
        /// The failure-rate multipliers averaged over (the alternatives the test is tuned to find).
        public var effectSizes: [Double]

        public init(alpha: Double = 0.01, effectSizes: [Double] = [2, 4, 8, 16, 32]) throws(DeploymentError) {
            guard alpha > 0, alpha < 0.5 else { throw .invalidHealthPolicy("the comparison's alpha must be between 0 and 0.5") }
            guard !effectSizes.isEmpty, effectSizes.allSatisfy({ $0 > 1 && $0.isFinite }) else {
                throw .invalidHealthPolicy("effect sizes must be finite multipliers above 1")
            }
            self.alpha = alpha
            self.effectSizes = effectSizes
        }

        public init() { try! self.init(alpha: 0.01) }
    }

    public let settings: Settings
    /// Log-likelihood ratio per effect size.
    private var logRatios: [Double]
    public private(set) var canaryErrors = 0
    public private(set) var baselineErrors = 0

    public init(settings: Settings) {
        self.settings = settings
        self.logRatios = Array(repeating: 0, count: settings.effectSizes.count)
    }

    /// One failed invocation, routed to the new version with probability `weight`.
    public mutating func recordError(onCanary: Bool, weight: Double) {
        guard weight > 0, weight < 1 else { return }  // a lone version gives no comparison
        if onCanary { canaryErrors += 1 } else { baselineErrors += 1 }
        for (index, k) in settings.effectSizes.enumerated() {
            let q = k * weight / (k * weight + 1 - weight)
            logRatios[index] += onCanary ? log(q / weight) : log((1 - q) / (1 - weight))
        }
    }

    /// The mixture likelihood ratio: evidence that the new version fails more often.
    public var evidence: Double {
        let largest = logRatios.max() ?? 0
        let sum = logRatios.reduce(0) { $0 + exp($1 - largest) }
        return exp(largest) * sum / Double(logRatios.count)
    }

    /// Whether the evidence has crossed `1/α`.
    public var rejectsEquality: Bool { evidence >= 1 / settings.alpha }
}
