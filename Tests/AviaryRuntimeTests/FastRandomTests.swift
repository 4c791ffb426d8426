import Foundation
import Testing

@testable import AviaryRuntime

@Suite struct FastRandomTests {
    @Test func uuidsAreDistinctLowerCaseVersion4UUIDs() throws {
        let ids = (0..<10_000).map { _ in FastRandom.uuid() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(id == uuid.uuidString.lowercased())
            let characters = Array(id)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
        }
    }

    @Test func drawsAreDistinctAndSpreadEvenly() {
        let values = (0..<100_000).map { _ in FastRandom.next() }
        #expect(Set(values).count == values.count)
        // Every bit is set in about half of the values.
        for bit in 0..<64 {
            let ones = values.count { $0 & (1 << UInt64(bit)) != 0 }
            #expect(abs(ones - 50_000) < 1_000, "bit \(bit): \(ones) ones")
        }
        // Ten equal bins of [0, 1) each get about a tenth (a 70/30 split must come out as 70/30).
        var bins = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 {
            let draw = FastRandom.unitInterval()
            #expect(draw >= 0 && draw < 1)
            bins[Int(draw * 10)] += 1
        }
        for count in bins { #expect(abs(count - 10_000) < 500, "\(bins)") }
    }
}
