/// How a deployment judges the new version: absolute rules, a sequential comparison against the old
/// version, and how much evidence a step needs before traffic moves on.
public struct HealthPolicy: Sendable, Hashable, Codable {
    /// What to do when a step's time is up but it has not seen `minimumInvocations` on the new version.
    public enum NoData: String, Sendable, Hashable, Codable, CaseIterable {
        /// Hold the step until enough invocations arrive (health is still judged meanwhile).
        case wait
        /// Roll back: an untested version is not promoted.
        case fail
        /// Move on regardless (what time-only schedules do).
        case pass
    }

    public var rules: [HealthRule]
    /// The comparison of the new version's errors against the old one's; nil turns it off.
    public var comparison: SequentialTest.Settings?
    /// Invocations of the new version each step must see before the next one starts.
    public var minimumInvocations: Int
    public var noData: NoData

    public init(
        rules: [HealthRule], comparison: SequentialTest.Settings?, minimumInvocations: Int, noData: NoData
    ) throws(DeploymentError) {
        guard minimumInvocations >= 0 else { throw .invalidHealthPolicy("the minimum invocations per step must be at least 0") }
        self.rules = rules
        self.comparison = comparison
        self.minimumInvocations = minimumInvocations
        self.noData = noData
    }

    /// What a deployment gets without health options: the sequential comparison (false alarms ≤ 1%),
    /// a rule that stops a new version failing at least half of its invocations (which also covers
    /// all-at-once and the bake, where there is nothing to compare with), and ten invocations per step.
    public static let standard = try! HealthPolicy(
        rules: [HealthRule(metric: .errorRate, threshold: 0.5, periodMilliseconds: 60_000)],
        comparison: SequentialTest.Settings(), minimumInvocations: 10, noData: .wait)
}
