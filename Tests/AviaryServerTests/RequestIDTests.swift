import Foundation
import Testing

@testable import AviaryServer

@Suite struct RequestIDTests {
    @Test func requestIDsAreDistinctLowerCaseVersion4UUIDs() throws {
        let ids = (0..<1000).map { _ in AWSErrorMiddleware.makeRequestID() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(id == uuid.uuidString.lowercased())
            let characters = Array(id)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
        }
    }
}
