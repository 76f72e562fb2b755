#include <gtest/gtest.h>

#include "api/dispatch.h"
#include "api/router.h"
#include "api/url.h"

namespace vcube::api {
namespace {

awaitable<response> ok_handler(request_context&) {
  co_return response{200, {{"ok", true}}, {}};
}

awaitable<response> echo_handler(request_context& context) {
  json body = {{"params", context.params}, {"query", context.query}};
  if (context.principal)
    body["user"] = context.principal->user;
  co_return response{200, body, {}};
}

awaitable<response> throwing_handler(request_context&) {
  throw std::runtime_error("boom");
  co_return response{};
}

TEST(UrlTest, PercentDecodingAndQueries) {
  EXPECT_EQ(*percent_decode("a%20b%2Fc+d", false), "a b/c+d");
  EXPECT_EQ(*percent_decode("a+b", true), "a b");
  EXPECT_FALSE(percent_decode("a%2", false).has_value());
  EXPECT_FALSE(percent_decode("a%zz", false).has_value());
  EXPECT_FALSE(percent_decode("%", false).has_value());
  auto q = parse_query("base_version=7&stage=1&name=a%26b&flag&&x=1&x=2");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->at("base_version"), "7");
  EXPECT_EQ(q->at("name"), "a&b");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_EQ(q->at("x"), "2");
  EXPECT_FALSE(parse_query("a=%G1").ok());
  EXPECT_EQ(percent_encode("a b/é"), "a%20b%2F%C3%A9");
}

TEST(RouterTest, MatchesParamsQueryAndRefusesUnknownPathsAndMethods) {
  router r;
  r.add(http::verb::get, "/api/v1/domain/{kind}/{name}", access::authenticated, echo_handler);
  r.add(http::verb::put, "/api/v1/domain/{kind}/{name}", access::admin, ok_handler);
  r.add(http::verb::get, "/api/v1/domain/{kind}", access::public_, ok_handler);

  auto found = r.find(http::verb::get, "/api/v1/domain/network/l%20an?base_version=3");
  ASSERT_TRUE(std::holds_alternative<route_match>(found));
  auto& m = std::get<route_match>(found);
  EXPECT_EQ(m.params.at("kind"), "network");
  EXPECT_EQ(m.params.at("name"), "l an");
  EXPECT_EQ(m.query.at("base_version"), "3");
  EXPECT_EQ(m.level, access::authenticated);

  EXPECT_EQ(std::get<route_match>(r.find(http::verb::put, "/api/v1/domain/a/b")).level,
            access::admin);

  auto missing = r.find(http::verb::get, "/api/v1/nothing");
  ASSERT_TRUE(std::holds_alternative<response>(missing));
  EXPECT_EQ(std::get<response>(missing).status, 404u);
  EXPECT_EQ(std::get<response>(missing).body["error"]["code"], "not_found");
  // An empty segment is not a parameter value.
  EXPECT_EQ(std::get<response>(r.find(http::verb::get, "/api/v1/domain/network/")).status, 404u);

  auto wrong = r.find(http::verb::delete_, "/api/v1/domain/a/b");
  ASSERT_TRUE(std::holds_alternative<response>(wrong));
  const response& refused = std::get<response>(wrong);
  EXPECT_EQ(refused.status, 405u);
  ASSERT_EQ(refused.headers.size(), 1u);
  EXPECT_EQ(refused.headers[0].first, "Allow");
  EXPECT_EQ(refused.headers[0].second, "GET, PUT");

  EXPECT_EQ(std::get<response>(r.find(http::verb::get, "/api/v1/domain/a/b%zz")).status, 400u);
  EXPECT_EQ(std::get<response>(r.find(http::verb::get, "/api/v1/domain/a/b?x=%zz")).status, 400u);
}

TEST(ErrorResponseTest, HasCodeMessageFieldAndStatus) {
  response r = error_response(make_error(errc::invalid_input, "mtu too big", "mtu"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body, json::parse(R"({"error":{"code":"invalid_input","message":"mtu too big",)"
                                R"("field":"mtu"}})"));
  EXPECT_EQ(error_response(make_error(errc::no_quorum, "x")).status, 503u);
}

TEST(PrincipalTest, AdminImpliesEveryRole) {
  principal admin{"a", {"admin"}};
  principal viewer{"v", {"viewer"}};
  EXPECT_TRUE(admin.has_role("operator"));
  EXPECT_TRUE(viewer.has_role("viewer"));
  EXPECT_FALSE(viewer.has_role("admin"));
}

class DispatchTest : public ::testing::Test {
 protected:
  DispatchTest() {
    routes_.add(http::verb::get, "/open", access::public_, echo_handler);
    routes_.add(http::verb::get, "/closed/{id}", access::authenticated, echo_handler);
    routes_.add(http::verb::post, "/admin", access::admin, ok_handler);
    routes_.add(http::verb::get, "/throw", access::public_, throwing_handler);
  }

  response run(http_request request) {
    std::optional<response> out;
    asio::io_context ioc;
    asio::co_spawn(ioc, dispatch(routes_, auth_, request, "127.0.0.1"),
                   [&](std::exception_ptr e, response r) {
                     EXPECT_FALSE(e);
                     out = std::move(r);
                   });
    ioc.run();
    return out.value();
  }

  static http_request get(std::string target) { return http_request{http::verb::get, target, 11}; }

  router routes_;
  authenticator auth_ = [](std::string_view token) -> result<principal> {
    if (token == "admin-token")
      return principal{"root", {"admin"}};
    if (token == "viewer-token")
      return principal{"val", {"viewer"}};
    return make_error(errc::unauthorized, "invalid token");
  };
};

TEST_F(DispatchTest, TokensComeFromBearerOrCookie) {
  auto request = get("/closed/7");
  EXPECT_EQ(run(request).status, 401u);
  EXPECT_EQ(run(request).body["error"]["message"],
            "authentication required: log in with POST /api/v1/login");
  request.set(http::field::authorization, "Bearer nope");
  EXPECT_EQ(run(request).body["error"]["message"], "invalid token");
  request.set(http::field::authorization, "bearer viewer-token");
  response r = run(request);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body["user"], "val");
  EXPECT_EQ(r.body["params"]["id"], "7");

  auto with_cookie = get("/closed/7");
  with_cookie.set(http::field::cookie, "theme=dark; vcube_token=admin-token; x=y");
  EXPECT_EQ(run(with_cookie).body["user"], "root");
}

TEST_F(DispatchTest, AdminRoutesNeedTheAdminRole) {
  http_request request{http::verb::post, "/admin", 11};
  request.set(http::field::authorization, "Bearer viewer-token");
  response r = run(request);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.body["error"]["code"], "forbidden");
  request.set(http::field::authorization, "Bearer admin-token");
  EXPECT_EQ(run(request).status, 200u);
}

TEST_F(DispatchTest, PublicRoutesIgnoreABadTokenButUseAGoodOne) {
  auto request = get("/open");
  request.set(http::field::authorization, "Bearer stale");
  response r = run(request);
  EXPECT_EQ(r.status, 200u);
  EXPECT_FALSE(r.body.contains("user"));
  request.set(http::field::authorization, "Bearer viewer-token");
  EXPECT_EQ(run(request).body["user"], "val");
}

TEST_F(DispatchTest, AThrowingHandlerBecomesA500) {
  response r = run(get("/throw"));
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.body["error"]["code"], "internal");
}

TEST_F(DispatchTest, BodyJsonRefusesMalformedAndNonObjects) {
  http_request request{http::verb::get, "/open", 11};
  request_context context{request, {}, {}, std::nullopt, "127.0.0.1"};
  EXPECT_EQ(context.body_json().err().code, errc::invalid_input);
  request.body() = "{\"a\":";
  EXPECT_EQ(context.body_json().err().code, errc::invalid_input);
  request.body() = "[1,2]";
  EXPECT_NE(context.body_json().err().message.find("array"), std::string::npos);
  request.body() = R"({"a": 1})";
  EXPECT_EQ((*context.body_json())["a"], 1);
}

TEST(TokenCookieTest, IsHttpOnlySecureStrictAndReadBack) {
  auto [name, value] = token_cookie_header("abc", 3600);
  EXPECT_EQ(name, "Set-Cookie");
  EXPECT_EQ(value, "vcube_token=abc; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict");
  http_request request{http::verb::get, "/", 11};
  request.set(http::field::cookie, "vcube_token=abc");
  EXPECT_EQ(request_token(request), "abc");
}

TEST(ToHttpResponseTest, SerializesJsonAndHeaders) {
  response r{201, {{"x", "\xff"}}, {{"Set-Cookie", "vcube_token=t; HttpOnly"}}};
  auto message = to_http_response(r, 11, false);
  EXPECT_EQ(message.result_int(), 201u);
  EXPECT_EQ(message[http::field::content_type], "application/json");
  EXPECT_EQ(message[http::field::set_cookie], "vcube_token=t; HttpOnly");
  EXPECT_FALSE(message.keep_alive());
  EXPECT_EQ(message.body(), "{\"x\":\"\xEF\xBF\xBD\"}");  // invalid UTF-8 replaced, no throw
}

}  // namespace
}  // namespace vcube::api
