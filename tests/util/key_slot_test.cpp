// key_slot / crc16: the CRC-16/XMODEM check value, the hash-tag rule, and agreement with a real
// Redis server on a few hundred keys.

#include "uredis/util/key_slot.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace uredis::util {
namespace {

// Evaluated at compile time: both functions are usable in constant expressions.
static_assert(crc16("123456789") == 0x31C3, "the CRC-16/XMODEM check value");
static_assert(key_slot("foo") == 12182);
static_assert(key_slot("bar") == 5061);

TEST(KeySlotCrc16, KnownValues) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);  // the catalogued check value of CRC-16/XMODEM
  EXPECT_EQ(crc16(""), 0);
  EXPECT_EQ(crc16(std::string_view("\0", 1)), 0) << "init 0 and a zero byte stay zero";
  EXPECT_EQ(crc16("A"), 0x58E5);
}

TEST(KeySlotCrc16, BytesAreUnsigned) {
  // A high byte must index the table as 0..255, not sign-extend.
  EXPECT_EQ(crc16("\xff"), 0x1EF0);
  EXPECT_EQ(crc16("\x80"), 0x9188);
}

// The definition, one bit at a time: what the eight-bytes-at-once crc16 must equal.
std::uint16_t crc16_bitwise(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (const char c : bytes) {
    crc = static_cast<std::uint16_t>(crc ^ (static_cast<unsigned char>(c) << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
  }
  return crc;
}

TEST(KeySlotCrc16, EveryLengthAndByteAgreesWithTheBitwiseDefinition) {
  // Lengths across several 8-byte blocks and every tail length; bytes of all 256 values.
  std::uint32_t state = 12345;
  for (std::size_t length = 0; length <= 70; ++length) {
    for (int round = 0; round < 50; ++round) {
      std::string s(length, '\0');
      for (char& c : s) {
        state = state * 1103515245u + 12345u;
        c = static_cast<char>(state >> 23);
      }
      ASSERT_EQ(crc16(s), crc16_bitwise(s)) << "length " << length;
    }
  }
}

TEST(KeySlot, PlainKeys) {
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(KeySlot, HashTags) {
  const auto user = key_slot("user1000");
  EXPECT_EQ(user, 3443);
  EXPECT_EQ(key_slot("{user1000}.following"), user);
  EXPECT_EQ(key_slot("{user1000}.followers"), user);
  EXPECT_EQ(hash_tag("{user1000}.following"), "user1000");

  // An empty first tag: the whole key is hashed, later braces are not searched.
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");
  EXPECT_EQ(key_slot("foo{}{bar}"), crc16("foo{}{bar}") % 16384);
  EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));

  // The first '{' opens the tag and the first '}' after it closes it.
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));

  // Unbalanced or reversed braces hash the whole key; a '}' before the '{' does not count.
  EXPECT_EQ(hash_tag("a{b"), "a{b");
  EXPECT_EQ(hash_tag("a}b"), "a}b");
  EXPECT_EQ(hash_tag("a}b{c}"), "c");
  EXPECT_EQ(hash_tag("{"), "{");
  EXPECT_EQ(hash_tag("{}"), "{}");
}

TEST(KeySlot, HashTagCasesCheckedAgainstRedisServer) {
  // `CLUSTER KEYSLOT` answers of redis-server 7.0.15 (see the table below for the setup).
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);
  EXPECT_EQ(key_slot("{bar"), 4015);
  EXPECT_EQ(key_slot("foo{bar}{zap}"), 5061);
  EXPECT_EQ(key_slot("{"), 4092);
  EXPECT_EQ(key_slot("}"), 12090);
  EXPECT_EQ(key_slot("{}"), 15257);
  EXPECT_EQ(key_slot("a{b"), 13340);
  EXPECT_EQ(key_slot("a}b{c}"), 7365);
}

TEST(KeySlot, AlwaysBelowSixteenThousandThreeHundredEightyFour) {
  std::string key;
  for (int i = 0; i < 5000; ++i) {
    key += static_cast<char>('a' + i % 26);
    ASSERT_LT(key_slot(key), cluster_slots);
  }
}

// Obtained once from a real server: redis-server 7.0.15 started with
//   --port 0 --unixsocket <tmp>/x.sock --cluster-enabled yes --cluster-config-file <tmp>/nodes.conf
// and `CLUSTER KEYSLOT <key>` sent for each key below. The keys are pseudo-random (Python
// random.Random(20240601)): plain keys, brace-heavy keys, arbitrary bytes 1..255 (octal escapes),
// and keys with one hash tag. The length column keeps embedded bytes exact.
struct server_vector {
  const char* key;
  std::size_t length;
  std::uint16_t slot;
};

constexpr server_vector server_vectors[] = {
    {"618", 3, 14074},
    {"1}x}}", 5, 15834},
    {"\211a\333\024\134\372k\345K\324\333\222\203W", 14, 15561},
    {"G{}.N", 5, 15468},
    {"jVHf0A7g8HNAlIrCRZ", 18, 11275},
    {"x", 1, 16287},
    {"&\243I\034AQo\306\005\021", 10, 300},
    {"18z{D}l2DFJ", 11, 2112},
    {"X1:XwtiQW0GRBxXGxDXs7", 21, 7780},
    {"}yb}x:}ax{", 10, 2546},
    {"rNx\243\035\363\321\004\276\011H", 11, 8114},
    {"{rfl}6kA7USUr", 13, 15054},
    {"Xc_o", 4, 12555},
    {"y}}:a}}::", 9, 10218},
    {"y\344\336\026\037;\263", 7, 1989},
    {"LQmVO{Y}", 8, 3036},
    {"4wTm", 4, 1264},
    {":", 1, 5913},
    {"\031*\337\256\0360d\220", 8, 1393},
    {"6u{MC}dvF2w", 11, 823},
    {"BHNYjKU4T-1N", 12, 8301},
    {"1}yy{y}1}1", 10, 12222},
    {"(O\243", 3, 14108},
    {"CkQz3{u}c4Y", 11, 11826},
    {"8wXcg8H", 7, 2535},
    {"{}1{b", 5, 8280},
    {"\344T\203\360\322\241\333\230\332/\016\340L\374\371\313", 16, 15448},
    {"h{5Pmucq}9Ico6", 14, 6876},
    {"q90_oOfe:vKc1CxE3", 17, 10157},
    {"x}:}::1y}", 9, 9276},
    {"W|\314wB\343I\234F\273", 10, 13977},
    {"fPW{c}M2X8vIyM", 14, 7365},
    {"t8jBEQMx5VYDVobbZpoJ_Of", 23, 1144},
    {"x", 1, 16287},
    {"\030\363\3278\335\320T\361B", 9, 12798},
    {".Lw0n{wWLTSn}EWtBKE", 19, 2591},
    {"E:h:rjq", 7, 11849},
    {":{{b}}y{", 8, 6215},
    {"l=\233Q\016\371\362t=\3361K", 12, 11697},
    {"m-{}_D2Bv", 9, 1303},
    {"IXXlY", 5, 15128},
    {"}:x{1{{", 7, 11758},
    {"{v\244\362\032\272\332\016<\307\007", 11, 11839},
    {"yS{}ipQD1", 9, 5078},
    {"jlXPlNRhPD", 10, 2967},
    {"xy:a1by{}y}{", 12, 5747},
    {"*\375\351\345", 4, 14663},
    {"xAp{WQ9.r}UQ", 12, 4449},
    {"1wU1p8jhVkBkFTTeLr:5Zh", 22, 14805},
    {"}:a}{xx1y}{1", 12, 12037},
    {"ly", 2, 8697},
    {"r99lM{oa}LLDUtKdW", 17, 10131},
    {"OEcW", 4, 14404},
    {"1{b:}a:", 7, 14929},
    {"\265 [&\021\024\267\263]N\005\335uZ\302\257", 16, 1537},
    {"{}0mb", 5, 16061},
    {"UKUFqcJPw93iNt", 14, 2045},
    {":ab:}a{}", 8, 12018},
    {"\377\011\003\336\225", 5, 5564},
    {"tlqpe{GkYZZ_}fWWZMjS2", 21, 607},
    {"QCUyx", 5, 12867},
    {"{abxby}{x}1{", 12, 13416},
    {"\247x\020\321\351\134\325$\342[O", 11, 14594},
    {"h:.T{Tua}CVOf_6tM", 17, 2341},
    {"0r3Sm", 5, 6625},
    {"{x1x{}}xbx", 10, 15151},
    {"gG\265r\301p6\261pt\343\267\345", 13, 11713},
    {"QwV:{VpYl}", 10, 5031},
    {"qSogk-IiajXvX4TtFSRKrg", 22, 4944},
    {"{11}::b", 7, 4310},
    {"\007T\345(,\350\365\266\270\254", 10, 689},
    {"{sqQDqX}ZlsGu", 13, 7900},
    {"XbKsVb9t", 8, 14870},
    {"{{}{x{y}{a{", 11, 4092},
    {"\027\361\211\215Yc ", 7, 11893},
    {"px3{rd2Tb}J_UdQN", 16, 12156},
    {"i", 1, 15759},
    {"xbb{{a{{}{a", 11, 11118},
    {"\0079\225!\242\010R\237f\234SPN", 13, 13323},
    {"-AJcD{VZ}1w", 11, 8102},
    {"6T", 2, 13634},
    {"1}a1{}:{{y", 10, 12757},
    {"EY\201\034", 4, 10642},
    {"T{}Kcx.X8", 9, 11392},
    {"trJintjig:IaEkGqAQwe", 20, 9445},
    {"x{{a:}11", 8, 2043},
    {"i\236\302\321rOx\340\320\214\004\315", 12, 3490},
    {"Ctt{RJRx:}", 10, 12737},
    {"BE9FbJq.yDcI.rJ", 15, 6141},
    {":}}{}y:a}", 9, 3356},
    {"bO\024\367\033\220\225\240\352\241\241\217\376o", 14, 8138},
    {"1p7xs{}Ye3", 10, 3147},
    {"rotCmzkqDMZ.9bphEpO", 19, 15090},
    {"b", 1, 3300},
    {"4c@bGnw\310\0328Xx", 12, 9658},
    {"f{6rDyMK}3j4e5U9P", 17, 7075},
    {"6Knm4mWlzC-hngR", 15, 7981},
    {"}", 1, 12090},
    {"g=qpGF\222\011\330K\226{\212", 13, 2637},
    {"mvN3{a8}amD0:", 13, 3904},
    {"K", 1, 14767},
    {"}yab{", 5, 785},
    {"\227\334\134\342W\214\324\332\002\365\222J\234\265\341\016", 16, 566},
    {"MW{B.QSUn}VS_onS", 16, 7807},
    {"q0qz0TxKTthZS1kZdR7dft", 22, 10356},
    {"{x}b:x", 6, 16287},
    {"^\2501\313F\333\274\016\007\017\336\217\350\366", 14, 7161},
    {"VS81{7ajDm}1NbdHn", 17, 9461},
    {"YpsRbUtIKUKd", 12, 16127},
    {"ayx}", 4, 1845},
    {"\033\2060,P\035\312", 7, 736},
    {"4fy{9dO9g.}3dxxbcI5", 19, 483},
    {"k8F:rP-itbbYG", 13, 4495},
    {"}", 1, 12090},
    {"\235\002\327u\015J\035\273\030\334\306\356", 12, 10845},
    {"P5igk{PUR1}8yFyX", 16, 3754},
    {"sBst9wwtMGz5xuRuWkh", 19, 1576},
    {"b{:yby", 6, 9484},
    {"]\014A\243\224@\261\276~\323\217;>\223\202", 15, 4042},
    {"lXo2{}Yrt", 9, 8009},
    {"WbSXc1ceEXqaqE4iB7UB_T_", 23, 2933},
    {"{}:}1{{}{}a", 11, 3213},
    {"G\245\344\025W\205", 6, 7151},
    {"hz0et{P_S}M", 11, 10969},
    {"uqeEDnF9cy40qG_", 15, 451},
    {"1b1bx}1yb", 9, 99},
    {"F\326\002", 3, 12494},
    {"{K}P1", 5, 14767},
    {"ERF.p1YrN6_3.JMSij-y", 20, 13472},
    {"ba}1{}}", 7, 5670},
    {"r8\202\306\332y.\240\225_\352", 11, 3494},
    {"{}CmOd", 6, 10088},
    {"d:GrjYcvkQzL9TZz4Oky7", 21, 2126},
    {"a1", 2, 7785},
    {"0\213\332\362\221\261ZI\220\316\035X\371", 13, 16294},
    {"VbO-{b}BZX5k", 12, 3300},
    {"2rMNZ18CrqQ", 11, 14454},
    {"x}{b}a", 6, 3300},
    {"\316\006\367^\300\030Y\343\004\024\013r", 12, 7118},
    {"M{}RXhXDa", 9, 13080},
    {"aZLlcHlGSqLivrIWQ", 17, 15878},
    {"}bx}bay{ba", 10, 1700},
    {"\226\222\214\250", 4, 7496},
    {"{Mg}2:lwCV", 10, 10193},
    {"Ni8V", 4, 16179},
    {"ayyx}bx", 7, 15559},
    {"\312\134\347\342gE\361\302H\377\332\370\214", 13, 2087},
    {"n{wFf5}Wy8h40", 13, 15151},
    {"_Wb", 3, 10547},
    {"{{a{", 4, 884},
    {"\011z\202>\375\215TF\201\031", 10, 8012},
    {"FgUiq{WjWEty}", 13, 7887},
    {"N.zeMMFCcAxMH_Bj14", 18, 2912},
    {"a}{{b", 5, 14528},
    {"HtL\245\226\034q\010L\315n\363\273W&", 15, 11987},
    {"m9{b09P}Wi", 10, 5351},
    {"EKGHhBqZCTDVICFtTHdF", 20, 8045},
    {"ax1{xy{1}", 9, 13310},
    {"\206\215\314\0301\361r[\276\205", 10, 2588},
    {"Y2Agw{pWs5}ISd8", 15, 8919},
    {"", 0, 0},
    {":11y:b}", 7, 5956},
    {"\345\254\226\237-\277\3025\202\232f\025\031", 13, 9410},
    {"xLgt{}Kbvd3", 11, 7261},
    {"", 0, 0},
    {"{{:b1}y}x", 9, 5428},
    {">\026\077#M", 5, 7216},
    {"R{1j}", 5, 15176},
    {"IxGMgO", 6, 13954},
    {"y{{1{", 5, 14385},
    {"\303", 1, 10543},
    {"jxH7{a8se0}x", 12, 6515},
    {"R6", 2, 15944},
    {"x{b:}y:b}x{", 11, 14929},
    {"\376\311:P::RM\326P\323\023\250", 13, 5904},
    {"z.9A{21e}LH", 11, 8546},
    {"LO3", 3, 13070},
    {"xy}yxx1x{}y", 11, 14375},
    {"w.\301\037RG\210j\250-\212\325A", 13, 12488},
    {"{}", 2, 15257},
    {"eP.TfoRSlYF0", 12, 4010},
    {"x{{}{{", 6, 4092},
    {"\362", 1, 3933},
    {"{zA}AH0Cv", 9, 16247},
    {"dR9Xsb0M7fC74", 13, 13742},
    {"b:x{yyxa1{{", 11, 10261},
    {"\225\001\250/\013\357\277N4\034\276\037j;", 14, 15406},
    {"vLcaH{}hadmpqmk", 15, 6467},
    {"ZSJqge1", 7, 2300},
    {"yb1ba{b:a", 9, 4760},
    {"\364K\263\252\210\332#\021\362'\245/", 12, 12351},
    {".MD:{n5q_5S}NKhA:", 17, 9930},
    {"Vsi-628D3OpQO3uwD5o1gRZv", 24, 15827},
    {"{{", 2, 7007},
    {"\362}O\327v\260\324RO\352\230\213", 12, 840},
    {"Cx1k{25S}", 9, 15155},
    {"av03RD:Ofs", 10, 11214},
    {"b:", 2, 14929},
    {"\027zd!\267", 5, 11280},
    {"50HNd{kd0vy}DSEc9", 17, 12004},
    {"J9MKbVl", 7, 13669},
    {"}1}{}b1::{}", 11, 8372},
    {"\352\220\265\033\313", 5, 6556},
    {"f_lbQ{uzfn}Rln_", 15, 3357},
    {"gOHaK1p.aHc:EJwM", 16, 5508},
    {"}ayb", 4, 10637},
    {"-a\346\353{k\035\001<\357\350+'\314\357", 15, 6755},
    {"ct{NySlTW}hTF7", 14, 14285},
    {"vokIqpFizv14s3za", 16, 14241},
    {"{{}ba", 5, 4092},
    {"\003\236T\333\034\370", 6, 9572},
    {"_NzG{yGkSu}Z", 12, 5135},
    {"", 0, 0},
    {"b}", 2, 626},
    {"x\302Dh\213Q\022<\030(", 10, 11158},
    {"xKiAK{}B0MSboL", 14, 6613},
    {"p_bSGa-lbvMhhix7eJ", 18, 12479},
    {"ay}bx:", 6, 14163},
    {"\227\253\227m\207v\253\267e", 9, 3872},
    {"{:Nj}wZuS.L", 11, 8523},
    {"dj0vQne1SoXk7DxBpsg972Pn", 24, 16226},
    {"11x1:x{", 7, 606},
    {"0\274\334!\374\233o\352\337\240\335", 11, 1330},
    {"{W11R4}tfTKj", 12, 1060},
    {"Gh6RGkzmAZV:JU0uQOUS", 20, 3342},
    {"yb1{{yx", 7, 9351},
    {"[Gy\372m\211\010Rf\2030", 11, 7797},
    {"roBVI{}C9", 9, 14718},
    {"b6ADgE8y:w8BR", 13, 14520},
    {"{ab{{}y11{:x", 12, 306},
    {"\312\374K.\207:\233w+\241\0067T\263", 14, 11615},
    {"q{66}mo", 7, 14758},
    {"Tbwo1A", 6, 8489},
    {"x:y{{", 5, 1583},
    {"'\255_\356P\347\370\370A+\233\233d\226T\267", 16, 12830},
    {"79{bjCbV}h", 10, 16288},
    {"aftOsc0Ku", 9, 16186},
    {"}{{aab", 6, 15976},
    {"\323\304Z\037\364\317\013!]q\016\277\346\354\031+", 16, 12231},
    {"{}B4", 4, 6986},
    {"vEF_GxnnBWRwzM8s_aNAhYXQ", 24, 15626},
    {"y1:a:y}x{}}", 11, 14155},
    {"\337\351\247X%\327\334 ", 8, 15705},
    {"T{TPZW}Z0x7", 11, 10850},
    {"5kVEXIrX3:wPBRMv-4YOzWEr", 24, 13566},
    {"{1", 2, 13009},
    {"\317", 1, 10403},
    {"kt{ayd}OD", 9, 12984},
    {"H4On5aGp:4", 10, 6668},
    {"by:::", 5, 4990},
    {"\363R~'\373m\374\272N\253\304'F", 13, 5714},
    {"ywD{AB}", 7, 5755},
    {"n3tqzYtUWo", 10, 8655},
    {"x}}:a", 5, 10456},
    {"\352,JO]Y]", 7, 6930},
    {"4K{R}2", 6, 15031},
    {"6x3ugbe.MvyecD", 14, 2013},
    {"}y:1}}{", 7, 6312},
    {"\330\224\355x\363l\234H\311\346Jk\037\235\332", 15, 6728},
    {"I{-c.6}:4j", 10, 16271},
    {"", 0, 0},
    {"{{{b1{:1b", 9, 4132},
    {"E\340$\365>", 5, 6010},
    {"{h}6O-", 6, 11694},
    {"tgdU6um38A9cx", 13, 1635},
    {"{}}}}", 5, 492},
    {"\360\274l\337", 4, 8198},
    {"v51{STj}TXXmJFV", 15, 2057},
    {"NbUk6di4MFSAtHQYhAsK11", 22, 13252},
    {"}{y{", 4, 11831},
    {"\327\221I\333\340\256g", 7, 7719},
    {"-{DjS}QX", 8, 3866},
    {"rx9AYX_.", 8, 7743},
    {"{}:}x:}x}", 9, 1902},
    {"$\366\216\315\225y\366\315\371y\235_\245\356", 14, 12992},
    {"{dD6Pg}", 7, 4428},
    {"Zk", 2, 15545},
    {"{x", 2, 11068},
    {"\234\265\350\347\004\325\227\003\034G\341\366\307", 13, 14558},
    {"UPkR{}8-D71He7", 14, 11714},
    {"kIlAbRk4Yb9IHymLNA90cH", 22, 11535},
    {"bx{b}:a11bb", 11, 3300},
    {"\375~!wP\242\346\324T\204pw\305m\3503", 16, 8122},
    {"{bFiuaF}ft2", 11, 497},
    {"CvNuUdLUlJV", 11, 11143},
    {"{:", 2, 954},
    {"'s<BRq\012\004\260Z\265\350\302", 13, 2197},
    {"O-X{fah4}9dpL", 13, 9796},
    {"kt_UjIutIGM", 11, 2875},
    {"x", 1, 16287},
    {"\2744\373\203G\313LX\322\0218", 11, 16320},
    {"{}cnNDjKi9", 10, 11650},
    {"JwzxwRwDKxLXZ", 13, 15024},
    {"}byxya}x{}b{", 12, 13699},
    {"O", 1, 14635},
    {"{-u8}", 5, 1120},
    {"UU2xS.7fF2ccday0Lr8wj", 21, 14428},
    {"}}1:ax{{1:x", 11, 1739},
    {"\202", 1, 12746},
    {"KN5{fn}gywAsq", 13, 11492},
    {"FpPRTQBINlzL:", 13, 13110},
    {"1}yb:}xxy}{", 11, 5580},
    {"\201\015%", 3, 3825},
    {"h{:0.:t}", 8, 12067},
    {"VmN7kBvKpXiFl:i5fOYElGO", 23, 15688},
    {"xb1}{", 5, 10365},
    {"\260\255\234\270\245qJ\266uf", 10, 7123},
    {"gsGmd{bt}sFcGGkm", 16, 4955},
    {"MZ.", 3, 15140},
    {"1}y}", 4, 7679},
    {"\011", 1, 4393},
    {"m{y}Aj88F76", 11, 12222},
    {"SYpSSsWy", 8, 11039},
    {"{ab}b}}1bb}", 11, 13567},
    {"R\272\002\302\022\370O\242\217\207\230\373\365", 13, 4384},
    {"W{}", 3, 8391},
    {"dh6HssMlEAmpIeeknr", 18, 10259},
    {"ax}}", 4, 4080},
    {"mip5.\031\315f\344\015Tp\042", 13, 14403},
    {"XZ{ddo}Z8b", 10, 7436},
    {"", 0, 0},
};

TEST(KeySlot, AgreesWithRedisServer) {
  static_assert(std::size(server_vectors) > 300);
  for (const auto& v : server_vectors) {
    const std::string_view key(v.key, v.length);
    EXPECT_EQ(key_slot(key), v.slot) << "key bytes: " << testing::PrintToString(std::string(key));
  }
  // A long key (300 'x'), from the same server.
  EXPECT_EQ(key_slot(std::string(300, 'x')), 11216);
}

TEST(KeySlot, ServerVectorLengthsMatchTheirLiterals) {
  for (const auto& v : server_vectors) {
    EXPECT_EQ(std::string_view(v.key).size(), v.length) << v.key;
  }
}

}  // namespace
}  // namespace uredis::util
