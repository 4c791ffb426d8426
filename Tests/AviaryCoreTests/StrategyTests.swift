@testable import AviaryCore
import Testing

@Suite struct StrategyTests {
    static let minute: Int64 = 60_000

    /// The step weights of a strategy, as plain numbers.
    func weights(_ strategy: Strategy) -> [Double] { strategy.steps.map(\.weight.value) }

    // MARK: Presets

    @Test(arguments: [("Canary10Percent5Minutes", 5), ("Canary10Percent10Minutes", 10), ("Canary10Percent15Minutes", 15), ("Canary10Percent30Minutes", 30)] as [(String, Int64)])
    func canaryPresetsHoldTenPercentThenPromote(name: String, minutes: Int64) throws {
        let strategy = try Strategy.parse(name)
        #expect(strategy.name == name)
        #expect(strategy.steps == [Strategy.Step(weight: Weight(0.1)!, milliseconds: minutes * Self.minute)])
        #expect(strategy.promotionAfterMilliseconds == minutes * Self.minute)
    }

    @Test(arguments: [("Linear10PercentEvery1Minute", 1), ("Linear10PercentEvery2Minutes", 2), ("Linear10PercentEvery3Minutes", 3), ("Linear10PercentEvery10Minutes", 10)] as [(String, Int64)])
    func linearPresetsClimbInNineStepsOfTenPercent(name: String, minutes: Int64) throws {
        let strategy = try Strategy.parse(name)
        #expect(strategy.name == name)
        #expect(weights(strategy) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
        #expect(strategy.steps.allSatisfy { $0.milliseconds == minutes * Self.minute })
        #expect(strategy.promotionAfterMilliseconds == 9 * minutes * Self.minute, "promoted after nine intervals, not ten")
    }

    @Test func allAtOncePresetHasNoSteps() throws {
        let strategy = try Strategy.parse("AllAtOnce")
        #expect(strategy.name == "AllAtOnce")
        #expect(strategy.steps.isEmpty)
        #expect(strategy.promotionAfterMilliseconds == 0)
        #expect(strategy.weight(afterMilliseconds: 0) == 1)
    }

    @Test func thereAreExactlyTheNineCodeDeployPresets() {
        #expect(Set(Strategy.presets.keys) == [
            "Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes", "Canary10Percent30Minutes",
            "Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes", "Linear10PercentEvery3Minutes",
            "Linear10PercentEvery10Minutes", "AllAtOnce",
        ])
    }

    @Test(arguments: Strategy.presets.keys.sorted())
    func presetsAreAlsoFoundByTheirCodeDeployNames(short: String) throws {
        let full = try Strategy.parse("CodeDeployDefault.Lambda" + short)
        #expect(full == Strategy.presets[short])
        #expect(full == (try Strategy.parse(short)), "the prefix is optional")
        #expect(full.name == short)
    }

    @Test func surroundingSpacesAreIgnored() throws {
        #expect(try Strategy.parse("  CodeDeployDefault.LambdaCanary10Percent5Minutes \n").name == "Canary10Percent5Minutes")
        #expect(try Strategy.parse(" canary:10%:5m ").name == "canary:10%:5m")
    }

    // MARK: Weight over time

    @Test func canaryWeightIsTheCanaryShareUntilTheIntervalEndsThenOne() throws {
        let strategy = try Strategy.parse("Canary10Percent5Minutes")
        #expect(strategy.weight(afterMilliseconds: 0) == 0.1)
        #expect(strategy.weight(afterMilliseconds: 5 * Self.minute - 1) == 0.1)
        #expect(strategy.weight(afterMilliseconds: 5 * Self.minute) == 1)
        #expect(strategy.weight(afterMilliseconds: 60 * Self.minute) == 1)
    }

    @Test func linearWeightClimbsAtEachIntervalBoundary() throws {
        let strategy = try Strategy.parse("Linear10PercentEvery1Minute")
        #expect(strategy.weight(afterMilliseconds: 0) == 0.1)
        #expect(strategy.weight(afterMilliseconds: Self.minute - 1) == 0.1)
        #expect(strategy.weight(afterMilliseconds: Self.minute) == 0.2)
        #expect(strategy.weight(afterMilliseconds: 4 * Self.minute + 30_000) == 0.5)
        #expect(strategy.weight(afterMilliseconds: 9 * Self.minute - 1) == 0.9)
        #expect(strategy.weight(afterMilliseconds: 9 * Self.minute) == 1)
    }

    // MARK: Custom strategies

    @Test func aCustomCanaryHoldsItsPercentageForItsInterval() throws {
        let strategy = try Strategy.parse("canary:10%:5m")
        #expect(strategy.name == "canary:10%:5m")
        #expect(strategy.steps == [Strategy.Step(weight: Weight(0.1)!, milliseconds: 5 * Self.minute)])
        #expect(strategy.steps == Strategy.presets["Canary10Percent5Minutes"]?.steps)
    }

    @Test func customLinearStopsBeforeReachingAHundredPercent() throws {
        let strategy = try Strategy.parse("linear:25%:30s")
        #expect(strategy.name == "linear:25%:30s")
        #expect(weights(strategy) == [0.25, 0.5, 0.75])
        #expect(strategy.steps.allSatisfy { $0.milliseconds == 30_000 })
        #expect(strategy.promotionAfterMilliseconds == 90_000)
    }

    @Test(arguments: [("linear:30%:1m", [0.3, 0.6, 0.9]), ("linear:50%:1m", [0.5]), ("linear:60%:1m", [0.6]), ("linear:99%:1m", [0.99]), ("linear:33%:1m", [0.33, 0.66, 0.99])] as [(String, [Double])])
    func linearStepsAreWholeMultiplesOfThePercentage(text: String, expected: [Double]) throws {
        #expect(weights(try Strategy.parse(text)) == expected)
    }

    @Test func explicitStepsAreHeldInOrder() throws {
        let strategy = try Strategy.parse("steps:1%@2m,10%@5m,50%@5m")
        #expect(strategy.name == "steps:1%@2m,10%@5m,50%@5m")
        #expect(strategy.steps == [
            Strategy.Step(weight: Weight(0.01)!, milliseconds: 2 * Self.minute),
            Strategy.Step(weight: Weight(0.1)!, milliseconds: 5 * Self.minute),
            Strategy.Step(weight: Weight(0.5)!, milliseconds: 5 * Self.minute),
        ])
        #expect(strategy.promotionAfterMilliseconds == 12 * Self.minute)
        #expect(strategy.weight(afterMilliseconds: 2 * Self.minute - 1) == 0.01)
        #expect(strategy.weight(afterMilliseconds: 2 * Self.minute) == 0.1)
        #expect(strategy.weight(afterMilliseconds: 7 * Self.minute) == 0.5)
        #expect(strategy.weight(afterMilliseconds: 12 * Self.minute) == 1)
    }

    @Test func allAtOnceByItsCustomNameHasNoSteps() throws {
        let strategy = try Strategy.parse("all-at-once")
        #expect(strategy == .allAtOnce)
        #expect(strategy.steps.isEmpty)
        #expect(strategy.weight(afterMilliseconds: 0) == 1)
    }

    @Test func decimalPercentagesAreKept() throws {
        let strategy = try Strategy.parse("canary:0.5%:1m")
        #expect(strategy.name == "canary:0.5%:1m")
        #expect(strategy.steps == [Strategy.Step(weight: Weight(0.005)!, milliseconds: Self.minute)])
        #expect(try Strategy.parse("steps:0.25%@1m,2.5%@1m").name == "steps:0.25%@1m,2.5%@1m")
    }

    @Test(arguments: [
        ("canary:10%:250ms", 250, "canary:10%:250ms"),
        ("canary:10%:45s", 45_000, "canary:10%:45s"),
        ("canary:10%:5m", 300_000, "canary:10%:5m"),
        ("canary:10%:2h", 7_200_000, "canary:10%:2h"),
        ("canary:10%:1m30s", 90_000, "canary:10%:1m30s"),
        ("canary:10%:1.5m", 90_000, "canary:10%:1m30s"),
        ("canary:10%:1h2m3s4ms", 3_723_004, "canary:10%:1h2m3s4ms"),
        ("canary:10%:90s", 90_000, "canary:10%:1m30s"),
    ] as [(String, Int64, String)])
    func intervalsTakeEveryUnit(text: String, milliseconds: Int64, name: String) throws {
        let strategy = try Strategy.parse(text)
        #expect(strategy.steps.map(\.milliseconds) == [milliseconds])
        #expect(strategy.name == name, "the name is the shortest exact form of the interval")
    }

    @Test(arguments: [
        "Canary10Percent5Minutes", "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes", "AllAtOnce", "all-at-once",
        "canary:10%:5m", "canary:0.5%:1m", "canary:12.5%:1.5m", "linear:25%:30s", "linear:7%:250ms",
        "steps:1%@2m,10%@5m,50%@5m", "steps:0.1%@1h,99.9%@1s", "canary:10%:90s",
    ])
    func theNameParsesBackToTheSameStrategy(text: String) throws {
        let strategy = try Strategy.parse(text)
        #expect(try Strategy.parse(strategy.name) == strategy)
        #expect(strategy.description == strategy.name)
    }

    /// `percentText` keeps three decimals, so a finer percentage gets a name that means something else
    /// (or nothing at all).
    @Test(arguments: ["canary:12.3456%:1m", "canary:0.0001%:1m", "steps:1.0001%@1m,1.0004%@1m"])
    func theNameParsesBackToTheSameStrategyEvenForFinePercentages(text: String) throws {
        let strategy = try Strategy.parse(text)
        let reparsed = try? Strategy.parse(strategy.name)
        #expect(reparsed == strategy, "\(text) is named \(strategy.name)")
    }

    // MARK: Errors

    /// Parses `text`, expecting an InvalidStrategy error; returns its message.
    func invalidStrategyMessage(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let error = #expect(throws: DeploymentError.self, sourceLocation: sourceLocation) { try Strategy.parse(text) }
        #expect(error?.code == "InvalidStrategy", sourceLocation: sourceLocation)
        #expect(error?.kind == .invalidRequest, sourceLocation: sourceLocation)
        return error?.message
    }

    @Test(arguments: ["Canary10Percent7Minutes", "CodeDeployDefault.LambdaCanary10Percent1Minute", "blue-green", "bluegreen:10%:5m", "", "canary10percent5minutes"])
    func unknownNamesAreRefusedWithTheChoices(text: String) {
        let message = invalidStrategyMessage(text)
        #expect(message?.contains("unknown strategy \(text)") == true)
        #expect(message?.contains("Canary10Percent5Minutes") == true, "the message lists what can be used")
        #expect(message?.contains("canary:10%:5m") == true)
    }

    @Test(arguments: ["canary:0%:5m", "linear:0%:1m", "steps:0%@1m,10%@1m", "canary:-5%:5m"])
    func aZeroOrNegativePercentageIsRefused(text: String) {
        #expect(invalidStrategyMessage(text)?.contains("above 0% and below 100%") == true)
    }

    @Test(arguments: ["canary:100%:5m", "linear:100%:1m", "steps:10%@1m,100%@1m", "canary:150%:5m"])
    func aHundredPercentOrMoreIsRefused(text: String) {
        #expect(invalidStrategyMessage(text)?.contains("above 0% and below 100%") == true)
    }

    @Test(arguments: ["canary:10%:5", "linear:10%:60", "steps:10%@5", "canary:10%:5m30"])
    func aDurationWithoutUnitIsRefused(text: String) {
        let message = invalidStrategyMessage(text)
        #expect(message?.contains("got \(text)") == true, "the message quotes the input")
    }

    @Test(arguments: ["canary:10:5m", "canary:10%", "canary:10%:5m:1m", "canary:abc%:5m", "canary:nan%:5m", "steps:10%", "steps:10%@1m,"])
    func malformedCustomStrategiesAreRefused(text: String) {
        #expect(invalidStrategyMessage(text)?.contains("such as") == true, "the message shows how to write it")
    }

    @Test(arguments: ["canary:10%:0s", "linear:10%:0m", "steps:10%@0ms", "canary:10%:0.4ms"])
    func aStepMustLastLongerThanZero(text: String) {
        #expect(invalidStrategyMessage(text)?.contains("longer than 0s") == true)
    }

    @Test(arguments: ["steps:10%@1m,5%@1m", "steps:10%@1m,10%@1m", "steps:1%@1m,50%@1m,20%@1m"])
    func stepsMustIncrease(text: String) {
        #expect(invalidStrategyMessage(text)?.contains("must increase") == true)
    }

    @Test(arguments: ["steps:", "steps:,", "steps: "])
    func emptyStepsAreRefused(text: String) {
        #expect(invalidStrategyMessage(text)?.contains("steps:1%@2m") == true, "the message shows how steps are written")
    }

    @Test func emptyStepListIsRefusedWithAnExample() {
        let error = #expect(throws: DeploymentError.self) { try Strategy.steps([]) }
        #expect(error?.code == "InvalidStrategy")
        #expect(error?.message.contains("at least one step") == true)
    }

    // MARK: DurationText

    @Test(arguments: [("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000), ("1m30s", 90_000), ("1.5m", 90_000), ("2h30m", 9_000_000), ("0.5s", 500), ("1s500ms", 1500)] as [(String, Int64)])
    func durationsAreReadInEveryUnit(text: String, milliseconds: Int64) {
        #expect(DurationText.milliseconds(text) == milliseconds)
    }

    @Test(arguments: ["", "5", "m", "5x", "-5s", "5 m", "1..5s", ".s", "5m30", "1e3s"])
    func durationsWithoutAUnitOrNumberAreNotRead(text: String) {
        #expect(DurationText.milliseconds(text) == nil)
    }

    @Test(arguments: [(0, "0s"), (250, "250ms"), (1000, "1s"), (90_000, "1m30s"), (3_600_000, "1h"), (3_723_004, "1h2m3s4ms"), (86_400_000, "24h")] as [(Int64, String)])
    func durationsAreFormattedInTheirShortestExactForm(milliseconds: Int64, text: String) {
        #expect(DurationText.format(milliseconds: milliseconds) == text)
        if milliseconds > 0 { #expect(DurationText.milliseconds(text) == milliseconds) }
    }
}
