#include <gtest/gtest.h>

#include "api/tls.h"
#include "api/tls_context.h"

namespace vcube::api {
namespace {

struct pki {
  private_key ca_key;
  certificate ca;
  private_key node_key;
  cert_request csr;
};

pki make_pki(std::string_view cluster = "lab") {
  pki p;
  p.ca_key = std::move(generate_key().value());
  p.ca = std::move(create_ca(p.ca_key, cluster).value());
  p.node_key = std::move(generate_key().value());
  p.csr = std::move(create_csr(p.node_key, "n1", "10.0.0.1").value());
  return p;
}

TEST(TlsTest, CaHasTheClusterNameAndSignsANodeCertificateThatVerifies) {
  pki p = make_pki();
  EXPECT_EQ(common_name(p.ca), "vcube cluster CA lab");
  auto cert = sign_csr(p.ca, p.ca_key, p.csr);
  ASSERT_TRUE(cert.ok()) << cert.err().message;
  EXPECT_EQ(common_name(*cert), "n1");
  EXPECT_TRUE(verify_chain(p.ca, *cert).ok());
  EXPECT_EQ(X509_check_ip_asc(cert->get(), "10.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert->get(), "n1", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_purpose(cert->get(), X509_PURPOSE_SSL_SERVER, 0), 0);
  EXPECT_NE(X509_check_purpose(cert->get(), X509_PURPOSE_SSL_CLIENT, 0), 0);
  EXPECT_EQ(X509_check_ca(cert->get()), 0);
  EXPECT_NE(X509_check_ca(p.ca.get()), 0);
}

TEST(TlsTest, ChainDoesNotVerifyAgainstAnotherCa) {
  pki p = make_pki();
  pki other = make_pki("other");
  auto cert = sign_csr(p.ca, p.ca_key, p.csr);
  ASSERT_TRUE(cert.ok());
  auto st = verify_chain(other.ca, *cert);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.err().message.find("does not verify"), std::string::npos) << st.err().message;
}

TEST(TlsTest, RefusesACsrWhoseSignatureDoesNotMatch) {
  pki p = make_pki();
  // Swap in another public key: the signature no longer verifies.
  auto stranger = generate_key();
  ASSERT_TRUE(stranger.ok());
  ASSERT_EQ(X509_REQ_set_pubkey(p.csr.get(), stranger->get()), 1);
  auto cert = sign_csr(p.ca, p.ca_key, p.csr);
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.err().code, errc::invalid_input);
  EXPECT_NE(cert.err().message.find("signature"), std::string::npos) << cert.err().message;
}

TEST(TlsTest, RefusesACaKeyThatDoesNotMatchTheCaCertificate) {
  pki p = make_pki();
  auto cert = sign_csr(p.ca, p.node_key, p.csr);
  ASSERT_FALSE(cert.ok());
  EXPECT_NE(cert.err().message.find("does not match"), std::string::npos);
}

TEST(TlsTest, CsrValidatesNameAndAddress) {
  auto key = generate_key();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(create_csr(*key, "n1,DNS:evil", "10.0.0.1").err().field, "name");
  EXPECT_EQ(create_csr(*key, "", "10.0.0.1").err().field, "name");
  EXPECT_EQ(create_csr(*key, "n1", "10.0.0").err().field, "address");
  EXPECT_TRUE(create_csr(*key, "n1", "fd00::1").ok());
}

TEST(TlsTest, PemRoundTripsKeepTheFingerprint) {
  pki p = make_pki();
  auto cert = sign_csr(p.ca, p.ca_key, p.csr);
  ASSERT_TRUE(cert.ok());
  std::string pem = to_pem(*cert);
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  auto again = cert_from_pem(pem);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(fingerprint_sha256(*again), fingerprint_sha256(*cert));
  EXPECT_EQ(*fingerprint_sha256_pem(pem), fingerprint_sha256(*cert));

  auto key = key_from_pem(to_pem(p.node_key));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_eq(key->get(), p.node_key.get()), 1);
  auto csr = csr_from_pem(to_pem(p.csr));
  ASSERT_TRUE(csr.ok());
  EXPECT_TRUE(sign_csr(p.ca, p.ca_key, *csr).ok());
}

TEST(TlsTest, FingerprintFormat) {
  pki p = make_pki();
  std::string fp = fingerprint_sha256(p.ca);
  ASSERT_EQ(fp.size(), 95u);
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i % 3 == 2)
      EXPECT_EQ(fp[i], ':');
    else
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(fp[i])) && !std::islower(fp[i]));
  }
  EXPECT_EQ(normalize_fingerprint("ab:Cd:01"), "ABCD01");
}

TEST(TlsTest, BadPemIsInvalidInput) {
  EXPECT_EQ(cert_from_pem("nonsense").err().code, errc::invalid_input);
  EXPECT_EQ(key_from_pem("").err().code, errc::invalid_input);
  EXPECT_EQ(csr_from_pem("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n").err().code,
            errc::invalid_input);
}

TEST(TlsTest, ContextsRefuseMismatchedOrMalformedInput) {
  pki p = make_pki();
  EXPECT_TRUE(make_server_context(to_pem(p.ca), to_pem(p.ca_key)).ok());
  EXPECT_FALSE(make_server_context(to_pem(p.ca), to_pem(p.node_key)).ok());
  EXPECT_FALSE(make_client_context(tls_trust::pin("AB:CD")).ok());
  EXPECT_FALSE(make_client_context(tls_trust::trust_ca("garbage")).ok());
  EXPECT_TRUE(make_client_context(tls_trust::trust_ca(to_pem(p.ca))).ok());
}

}  // namespace
}  // namespace vcube::api
