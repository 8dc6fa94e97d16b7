"""Generate the demo inventory of a Gunsan-sized city: ``python config/demo/generate.py [--out PATH]``.

The demo starts from the real 군산시 rows of the national free Wi-Fi dataset (the CP949 file beside
this script, read by the same importer operators use), then adds synthesised sites until the city has
370 land sites with 380 APs, plus 4 ferries with 2 APs and an LTE router each: 388 APs. Names, districts
and coordinates of the synthesised sites are Gunsan's; their street addresses are plausible, not real.

Every AP answers on its own loopback address (land 127.20.x.y, ferries 127.30.x.y, port 1161), which
is what the simulator binds. A seeded RNG makes the output identical on every run; a test checks that
the committed ``wifimon.yaml`` is exactly what this script writes.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere, installed or not
    sys.path.insert(0, str(ROOT))

from monitor.inventory_import import dump_config, parse_sites, write_atomic  # noqa: E402

import os  # noqa: E402

# The city's published rows live beside the project (../shared/wifi_std), not in it.
SHARED = Path(os.environ.get("WIFIMON_SHARED", ROOT.parent / "shared"))
SOURCE_CSV = SHARED / "wifi_std" / "gunsan_2016_original_cp949.csv"
OUT = HERE / "wifimon.yaml"
SEED = 20161216  # the 데이터기준일자 of the source rows, for want of a better number

LAND_SITES = 370
LAND_APS = 380
GENERIC_SHARE = 0.25  # the rest run the UniFi profile
PORT = 1161
CREDENTIALS = "demo"
SSIDS = ["Public WiFi Free"]
PROVINCE_CITY = "전북특별자치도 군산시"

# Bounds of the city's land and islands: synthesised positions are clamped into them.
LAT_RANGE = (35.79, 36.05)
LON_RANGE = (126.38, 126.89)


@dataclass(frozen=True)
class District:
    """A 행정동/읍/면: a rough centre, how far its sites spread (degrees), its roads and 법정동."""

    lat: float
    lon: float
    spread: float
    roads: tuple[str, ...]
    legal: tuple[str, ...] = ()  # 법정동 of a 동, written after urban road addresses; 읍/면 have none

    @property
    def rural(self) -> bool:
        return not self.legal


DISTRICTS: dict[str, District] = {
    "해신동": District(35.9905, 126.7060, 0.004, ("해망로", "중앙로", "내항2길"), ("금동", "해망동", "신흥동")),
    "월명동": District(35.9870, 126.7100, 0.003, ("구영길", "월명로", "해망로"), ("월명동", "신창동", "장미동", "영화동")),
    "삼학동": District(35.9775, 126.7075, 0.003, ("미원로", "삼학로"), ("삼학동", "오룡동", "송풍동")),
    "신풍동": District(35.9730, 126.7010, 0.003, ("대학로", "신풍로"), ("신풍동", "문화동")),
    "중앙동": District(35.9835, 126.7150, 0.003, ("중앙로", "대명로"), ("중앙로1가", "개복동", "명산동", "창성동")),
    "흥남동": District(35.9760, 126.7230, 0.003, ("팔마로", "구암로"), ("흥남동", "경장동")),
    "조촌동": District(35.9725, 126.7385, 0.004, ("조촌로", "시청로", "공단대로"), ("조촌동",)),
    "경암동": District(35.9795, 126.7300, 0.003, ("경암로", "중앙로"), ("경암동",)),
    "구암동": District(35.9855, 126.7445, 0.004, ("구암로", "백릉로", "세풍길"), ("구암동",)),
    "개정동": District(35.9800, 126.7620, 0.006, ("동군산로", "개정로"), ("개정동", "내흥동")),
    "수송동": District(35.9650, 126.7175, 0.005, ("수송로", "동수송길"), ("수송동", "미장동", "지곡동")),
    "나운1동": District(35.9668, 126.6950, 0.003, ("신설길", "하나운로"), ("나운동",)),
    "나운2동": District(35.9645, 126.7000, 0.003, ("나운길", "대학로"), ("나운동",)),
    "나운3동": District(35.9590, 126.6930, 0.004, ("하나운로", "은파순환길"), ("나운동",)),
    "소룡동": District(35.9700, 126.6500, 0.012, ("임해로", "새만금북로", "소룡안길"), ("소룡동", "오식도동", "비응도동")),
    "미성동": District(35.9430, 126.6830, 0.008, ("미룡로", "미성로", "산북로"), ("미룡동", "산북동", "신관동", "개사동")),
    "옥구읍": District(35.9230, 126.6850, 0.015, ("옥구로", "옥구남로")),
    "옥산면": District(35.9400, 126.7480, 0.012, ("산성로", "옥산로")),
    "회현면": District(35.9130, 126.7570, 0.012, ("회현로", "대정길")),
    "임피면": District(35.9825, 126.8500, 0.012, ("남상길", "임피로")),
    "서수면": District(36.0050, 126.8300, 0.012, ("서수로", "마룡길")),
    "대야면": District(35.9490, 126.8190, 0.012, ("석화로", "대야로")),
    "개정면": District(35.9580, 126.7960, 0.012, ("바르메길", "개정로")),
    "성산면": District(35.9950, 126.7800, 0.012, ("송호로", "금강로")),
    "나포면": District(36.0300, 126.8320, 0.012, ("나포초교길", "나포로")),
    "옥서면": District(35.9245, 126.6400, 0.012, ("옥구저수지로", "새만금로")),
    # 고군산군도: the 면's sites sit on 선유도, 무녀도, 신시도, 장자도, 야미도.
    "옥도면": District(35.8180, 126.4300, 0.010, ("고군산로", "선유남길", "장자도길")),
}

# Named places: (name, district, lat, lon, APs). Positions are the real places', to a few hundred metres.
LANDMARKS: dict[str, list[tuple[str, str, float, float, int]]] = {
    "tourist_site": [
        ("군산근대역사박물관", "월명동", 35.9890, 126.7110, 1),
        ("군산근대미술관", "월명동", 35.9893, 126.7120, 1),
        ("군산근대건축관", "월명동", 35.9886, 126.7127, 1),
        ("구 군산세관", "월명동", 35.9895, 126.7133, 1),
        ("진포해양테마공원", "해신동", 35.9912, 126.7075, 1),
        ("경암동 철길마을", "경암동", 35.9806, 126.7290, 1),
        ("초원사진관", "월명동", 35.9848, 126.7060, 1),
        ("신흥동 일본식 가옥", "월명동", 35.9843, 126.7043, 1),
        ("동국사", "월명동", 35.9830, 126.7120, 1),
        ("해망굴", "해신동", 35.9918, 126.7028, 1),
        ("뜬다리부두", "해신동", 35.9922, 126.7100, 1),
        ("군산 시간여행마을", "월명동", 35.9868, 126.7105, 1),
        ("채만식문학관", "개정동", 36.0080, 126.7520, 1),
        ("금강철새조망대", "성산면", 36.0170, 126.7640, 1),
        ("금강하구둑 관광지", "성산면", 36.0200, 126.7550, 1),
        ("은파호수 물빛다리", "나운3동", 35.9560, 126.7000, 1),
        ("선유도 해수욕장", "옥도면", 35.8120, 126.4140, 1),
        ("선유도 망주봉", "옥도면", 35.8140, 126.4180, 1),
        ("선유도 스카이라인", "옥도면", 35.8165, 126.4230, 1),
        ("장자도", "옥도면", 35.8060, 126.4020, 1),
        ("대장도", "옥도면", 35.8040, 126.3960, 1),
        ("무녀도 쥐똥섬", "옥도면", 35.8220, 126.4350, 1),
        ("신시도 대각산 전망대", "옥도면", 35.8260, 126.4720, 1),
        ("야미도", "옥도면", 35.8430, 126.4890, 1),
        ("고군산군도 전망대", "옥도면", 35.8200, 126.4400, 1),
        ("새만금 방조제 휴게소", "옥도면", 35.8700, 126.5150, 1),
        ("비응항 마파지길", "소룡동", 35.9360, 126.5280, 1),
        ("옥구향교", "옥구읍", 35.9250, 126.6900, 1),
        ("발산리 오층석탑", "개정면", 35.9580, 126.7900, 1),
        ("구 임피역", "임피면", 35.9830, 126.8560, 1),
        ("이영춘 가옥", "개정면", 35.9600, 126.7850, 1),
        ("청암산 등산로 입구", "옥산면", 35.9300, 126.7700, 1),
    ],
    "park": [
        ("은파호수공원", "나운3동", 35.9550, 126.6980, 2),
        ("월명공원", "월명동", 35.9910, 126.7190, 2),
        ("새만금 바람공원", "소룡동", 35.9390, 126.5330, 1),
        ("비응공원", "소룡동", 35.9370, 126.5300, 1),
        ("점방산 근린공원", "나운1동", 35.9690, 126.6900, 1),
        ("수송근린공원", "수송동", 35.9630, 126.7200, 1),
        ("금강시민공원", "성산면", 36.0190, 126.7480, 1),
        ("옥구저수지 수변공원", "옥서면", 35.9200, 126.6550, 1),
        ("어린이교통공원", "수송동", 35.9610, 126.7150, 1),
    ],
    "market": [
        ("역전종합시장", "중앙동", 35.9840, 126.7175, 2),
        ("신영시장", "중앙동", 35.9826, 126.7195, 2),
        ("명산시장", "중앙동", 35.9850, 126.7140, 2),
        ("군산수산물종합센터", "해신동", 35.9950, 126.6990, 2),
        ("해망동 수산시장", "해신동", 35.9935, 126.7010, 1),
        ("대야전통시장", "대야면", 35.9480, 126.8210, 1),
        ("군산 새벽시장", "중앙동", 35.9832, 126.7160, 1),
        ("나운동 상설시장", "나운2동", 35.9650, 126.7020, 1),
    ],
    "bus_stop": [
        ("군산시외버스터미널", "경암동", 35.9820, 126.7335, 2),
        ("군산고속버스터미널", "경암동", 35.9832, 126.7345, 2),
        ("대야 시외버스 정류소", "대야면", 35.9495, 126.8205, 1),
    ],
    "port": [
        ("군산연안여객터미널", "소룡동", 35.9870, 126.6860, 2),
        ("비응항", "소룡동", 35.9345, 126.5290, 1),
        ("군산 내항", "해신동", 35.9930, 126.7080, 1),
        ("선유도항", "옥도면", 35.8150, 126.4190, 1),
        ("신시도항", "옥도면", 35.8250, 126.4800, 1),
    ],
    "public_office": [
        ("군산시청", "조촌동", 35.9676, 126.7366, 1),
        ("군산시의회", "조촌동", 35.9680, 126.7378, 1),
        ("중앙동주민센터", "중앙동", 35.9838, 126.7148, 1),
        ("흥남동주민센터", "흥남동", 35.9762, 126.7228, 1),
        ("개정동주민센터", "개정동", 35.9805, 126.7615, 1),
        ("나운3동주민센터", "나운3동", 35.9595, 126.6925, 1),
        ("소룡동주민센터", "소룡동", 35.9760, 126.6690, 1),
        ("미성동주민센터", "미성동", 35.9440, 126.6820, 1),
        ("서수면사무소", "서수면", 36.0050, 126.8290, 1),
        ("대야면사무소", "대야면", 35.9500, 126.8185, 1),
        ("옥도면 선유도 출장소", "옥도면", 35.8155, 126.4175, 1),
    ],
    "culture": [
        ("군산예술의전당", "조촌동", 35.9690, 126.7340, 1),
        ("군산시민문화회관", "나운2동", 35.9640, 126.7040, 1),
        ("군산 3·1운동 100주년 기념관", "구암동", 35.9860, 126.7470, 1),
        ("군산문화원", "월명동", 35.9875, 126.7095, 1),
        ("군산 생활문화센터", "수송동", 35.9660, 126.7190, 1),
        ("장미공연장", "월명동", 35.9887, 126.7138, 1),
        ("군산 청소년수련관", "나운3동", 35.9575, 126.6955, 1),
        ("옥구 농민항일기념관", "옥구읍", 35.9240, 126.6880, 1),
    ],
    "sports": [
        ("월명종합경기장", "경암동", 35.9770, 126.7310, 1),
        ("월명체육관", "경암동", 35.9780, 126.7295, 1),
        ("군산 국민체육센터", "수송동", 35.9640, 126.7230, 1),
        ("월명 실내수영장", "경암동", 35.9765, 126.7320, 1),
        ("금강 생활체육공원", "성산면", 36.0150, 126.7500, 1),
        ("대야 생활체육공원", "대야면", 35.9460, 126.8160, 1),
        ("군산 월명야구장", "경암동", 35.9758, 126.7300, 1),
        ("은파 테니스장", "나운3동", 35.9530, 126.6960, 1),
    ],
    "library": [
        ("군산시립도서관", "나운3동", 35.9570, 126.6945, 1),
        ("늘푸른도서관", "미성동", 35.9455, 126.6845, 1),
        ("설림도서관", "수송동", 35.9620, 126.7160, 1),
        ("금강도서관", "개정동", 35.9830, 126.7600, 1),
    ],
    "health": [
        ("군산시보건소", "조촌동", 35.9670, 126.7350, 1),
    ],
    "street": [
        ("영화동 근대거리", "월명동", 35.9878, 126.7140, 1),
        ("군산 짬뽕 특화거리", "월명동", 35.9862, 126.7080, 1),
        ("수송동 먹자골목", "수송동", 35.9655, 126.7185, 1),
        ("은파 먹거리타운", "나운3동", 35.9545, 126.7010, 1),
        ("대학로 청춘거리", "신풍동", 35.9735, 126.7000, 1),
        ("미장지구 중심상가", "수송동", 35.9590, 126.7240, 1),
        ("지곡동 먹자골목", "수송동", 35.9600, 126.7280, 1),
        ("나운동 로데오거리", "나운2동", 35.9648, 126.6995, 1),
        ("신영동 문화의 거리", "중앙동", 35.9830, 126.7185, 1),
        ("째보선창 거리", "해신동", 35.9945, 126.7040, 1),
    ],
    "other": [
        ("군산역", "개정동", 35.9980, 126.7470, 1),
        ("대야역", "대야면", 35.9505, 126.8230, 1),
        ("군산공항", "옥서면", 35.9265, 126.6160, 1),
    ],
    "rental_yard": [
        ("군산시 농기계임대사업소 본소", "개정면", 35.9560, 126.7990, 1),
        ("농기계임대사업소 서부분소", "옥구읍", 35.9200, 126.6800, 1),
        ("농기계임대사업소 동부분소", "임피면", 35.9800, 126.8450, 1),
        ("농기계임대사업소 북부분소", "나포면", 36.0280, 126.8280, 1),
    ],
}

# Places named after a district's 법정동 or 읍/면 and their kind: (category, pattern, districts), where a
# district may be written 'place/district' to name the place explicitly.
PATTERNED: list[tuple[str, str, tuple[str, ...]]] = [
    ("health", "{place} 보건지소", ("옥구읍", "옥산면", "회현면", "임피면", "서수면", "대야면", "개정면", "성산면", "나포면", "옥서면")),
    ("health", "{place} 보건진료소", ("선유도/옥도면", "신시도/옥도면")),
    ("park", "{place} 근린공원", ("조촌동", "구암동", "흥남동", "삼학동", "미성동", "소룡동", "수송동", "신풍동", "개정동", "중앙동")),
    ("park", "{place} 어린이공원", ("나운1동", "나운2동", "수송동", "미성동", "조촌동", "경암동", "구암동", "삼학동", "소룡동", "개정동", "흥남동", "해신동")),
    ("welfare", "{place} 경로당", tuple(DISTRICTS)),
    ("welfare", "{place} 지역아동센터", ("나운1동", "나운2동", "나운3동", "수송동", "미성동", "조촌동", "구암동", "소룡동", "대야면", "옥구읍")),
    ("library", "{place} 작은도서관", ("산북/미성동", "소룡동", "옥구읍", "회현면")),
    ("sports", "{place} 게이트볼장", ("옥서면", "회현면", "나포면", "임피면")),
]
WELFARE_NAMED = [
    ("군산시노인종합복지관", "나운1동"), ("군산시장애인종합복지관", "조촌동"), ("나운종합사회복지관", "나운2동"),
    ("군산종합사회복지관", "삼학동"), ("군산시 다문화가족지원센터", "수송동"), ("군산시 건강가정지원센터", "수송동"),
    ("군산시 여성회관", "조촌동"), ("소룡노인복지센터", "소룡동"), ("대야노인복지회관", "대야면"),
    ("옥구노인복지회관", "옥구읍"), ("임피노인복지회관", "임피면"), ("미성 사회복지관", "미성동"),
]

# Bus stops are named after what stands near them; the remaining land sites are bus stops.
STOP_PLACES: list[tuple[str, str]] = [
    ("군산시청", "조촌동"), ("군산대학교", "개정동"), ("군산대 정문", "개정동"), ("호원대학교", "임피면"),
    ("군장대학교", "성산면"), ("군산간호대학교", "개정동"), ("군산의료원", "개정동"), ("동군산병원", "조촌동"),
    ("군산역", "개정동"), ("대야역", "대야면"), ("명산사거리", "중앙동"), ("중동사거리", "중앙동"),
    ("문화동사거리", "신풍동"), ("미원광장", "삼학동"), ("팔마광장", "흥남동"), ("나운동우체국", "나운2동"),
    ("나운주공아파트", "나운3동"), ("은파유원지", "나운3동"), ("은파삼거리", "나운3동"), ("미장지구", "수송동"),
    ("미장초등학교", "수송동"), ("지곡동", "수송동"), ("수송사거리", "수송동"), ("수송공원", "수송동"),
    ("경암사거리", "경암동"), ("조촌초등학교", "조촌동"), ("구암초등학교", "구암동"), ("내흥동", "개정동"),
    ("개정사거리", "개정동"), ("소룡초등학교", "소룡동"), ("오식도동", "소룡동"), ("국가산업단지", "소룡동"),
    ("군산산업단지", "소룡동"), ("비응항", "소룡동"), ("새만금방조제 입구", "소룡동"), ("산북동", "미성동"),
    ("신관동", "미성동"), ("미룡동", "미성동"), ("개사동", "미성동"), ("옥구읍사무소", "옥구읍"),
    ("옥구농협", "옥구읍"), ("선제리", "옥구읍"), ("옥서면사무소", "옥서면"), ("군산공항", "옥서면"),
    ("선연리", "옥서면"), ("회현면사무소", "회현면"), ("회현중학교", "회현면"), ("대정리", "회현면"),
    ("대야면사무소", "대야면"), ("대야시장", "대야면"), ("대야초등학교", "대야면"), ("산월리", "대야면"),
    ("개정면사무소", "개정면"), ("발산리", "개정면"), ("성산면사무소", "성산면"), ("고봉리", "성산면"),
    ("나포면사무소", "나포면"), ("옥곤리", "나포면"), ("서수면사무소", "서수면"), ("서수농협", "서수면"),
    ("임피면사무소", "임피면"), ("읍내리", "임피면"), ("옥산면사무소", "옥산면"), ("청암산 입구", "옥산면"),
    ("금강하구둑", "성산면"), ("채만식문학관", "개정동"), ("근대역사박물관", "월명동"), ("해망동", "해신동"),
    ("째보선창", "해신동"), ("장미동", "월명동"), ("영화동", "월명동"), ("신흥동", "월명동"),
    ("금광동", "삼학동"), ("삼학동주민센터", "삼학동"), ("송풍동", "삼학동"), ("흥남동주민센터", "흥남동"),
    ("경장동", "흥남동"), ("문화동", "신풍동"), ("신풍동주민센터", "신풍동"), ("오룡동", "삼학동"),
    ("구암동주민센터", "구암동"), ("공설시장", "중앙동"), ("역전시장", "중앙동"), ("월명동주민센터", "월명동"),
    ("해신동주민센터", "해신동"), ("군산시외버스터미널", "경암동"), ("월명체육관", "경암동"), ("예술의전당", "조촌동"),
    ("시민문화회관", "나운2동"), ("나운1동주민센터", "나운1동"), ("나운2동주민센터", "나운2동"), ("점방산", "나운1동"),
    ("선유도", "옥도면"), ("무녀도", "옥도면"), ("신시도", "옥도면"), ("장자도", "옥도면"),
]
STOP_SIDES = ["", "(건너)", "(앞)", "(입구)", "(동)", "(서)"]

FERRIES: list[dict[str, Any]] = [
    {
        "id": "ferry-eocheongdo", "name": "어청도 여객선", "district": "소룡동",
        "address": f"{PROVINCE_CITY} 해망로 378 (군산연안여객터미널)", "lat": 35.9872, "lon": 126.6858,
        "timetable": [("mon tue wed thu fri sat", "07:00", "18:30"), ("sun", "08:00", "16:30")],
    },
    {
        "id": "ferry-yeondo", "name": "연도·개야도 여객선", "district": "소룡동",
        "address": f"{PROVINCE_CITY} 해망로 378 (군산연안여객터미널)", "lat": 35.9870, "lon": 126.6862,
        "timetable": [("mon tue wed thu fri", "07:30", "18:00"), ("sat", "07:30", "19:00"), ("sun", "08:30", "16:00")],
    },
    {
        "id": "ferry-maldo", "name": "말도·명도·방축도 여객선", "district": "소룡동",
        "address": f"{PROVINCE_CITY} 해망로 378 (군산연안여객터미널)", "lat": 35.9868, "lon": 126.6866,
        "timetable": [("mon tue wed thu fri sat", "06:40", "18:30"), ("sun", "08:00", "15:00")],
    },
    {
        "id": "ferry-gwallido", "name": "장자도–관리도 도선", "district": "옥도면",
        "address": f"{PROVINCE_CITY} 옥도면 장자도길 17 (장자도 선착장)", "lat": 35.8066, "lon": 126.4031,
        "timetable": [("mon tue wed thu fri sat", "08:00", "18:00"), ("sun", "09:00", "17:00")],
    },
]


# ---------------------------------------------------------------------------------------------------


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _near(rng: random.Random, lat: float, lon: float, spread: float) -> tuple[float, float]:
    return (
        round(_clamp(lat + rng.uniform(-spread, spread), LAT_RANGE), 6),
        round(_clamp(lon + rng.uniform(-spread, spread) * 1.2, LON_RANGE), 6),  # a degree of lon is shorter
    )


def _address(rng: random.Random, district: str, legal: str | None = None) -> str:
    d = DISTRICTS[district]
    road = rng.choice(d.roads)
    number = rng.randint(1, 420)
    if d.rural:
        return f"{PROVINCE_CITY} {district} {road} {number}"
    return f"{PROVINCE_CITY} {road} {number} ({legal or rng.choice(d.legal)})"


def _place_names(entries: tuple[str, ...], used: dict[str, int]) -> list[tuple[str, str]]:
    """(place, district) pairs: 'place/district' as written; a 읍/면 by its own name; a 동 by each of
    its 법정동 in turn (``used`` remembers the turn across patterns, so one 동 is not named twice)."""
    out = []
    for entry in entries:
        place, _, district = entry.partition("/")
        if district:
            out.append((place, district))
            continue
        d = DISTRICTS[place]
        if d.rural:
            out.append((place[:-1] if len(place) > 2 else place, place))
            continue
        legal = d.legal[used.get(place, 0) % len(d.legal)]
        used[place] = used.get(place, 0) + 1
        # 나운1·2·3동 share one 법정동 (나운동): name those by the 행정동 to keep names apart.
        shared = sum(1 for other in DISTRICTS.values() if legal in other.legal) > 1
        out.append((place if shared else legal, place))
    return out


def synthesised(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """``count`` land sites: the named places, the patterned ones, then bus stops to make up the rest."""
    drafts: list[tuple[str, str, str, tuple[float, float] | None, int]] = []  # category, name, district, pos, aps
    for category, places in LANDMARKS.items():
        for name, district, lat, lon, aps in places:
            drafts.append((category, name, district, (lat, lon), aps))
    for name, district in WELFARE_NAMED:
        drafts.append(("welfare", name, district, None, 1))
    used: dict[str, int] = {}
    for category, pattern, entries in PATTERNED:
        for place, district in _place_names(entries, used):
            drafts.append((category, pattern.format(place=place), district, None, 1))

    stops_needed = count - len(drafts)
    if stops_needed < len(STOP_PLACES):
        raise SystemExit(f"generate.py: only {stops_needed} bus stops fit in {count} sites; trim the named places")
    stop_anchor = {name: _near(rng, DISTRICTS[d].lat, DISTRICTS[d].lon, DISTRICTS[d].spread) for name, d in STOP_PLACES}
    extra = [(name, d, side) for side in STOP_SIDES[1:] for name, d in STOP_PLACES]
    rng.shuffle(extra)
    stops = [(name, d, "") for name, d in STOP_PLACES] + extra[: stops_needed - len(STOP_PLACES)]
    for name, district, side in stops:
        lat, lon = stop_anchor[name]
        pos = (round(lat + rng.uniform(-0.0006, 0.0006), 6), round(lon + rng.uniform(-0.0006, 0.0006), 6))
        drafts.append(("bus_stop", f"{name}{side} 버스정류장", district, pos, 1))

    prefixes = {
        "bus_stop": "bus", "park": "park", "tourist_site": "tour", "market": "market", "welfare": "welfare",
        "rental_yard": "rental", "public_office": "office", "culture": "culture", "sports": "sports",
        "library": "library", "port": "port", "street": "street", "health": "health", "other": "other",
    }
    numbers: dict[str, int] = {}
    names: set[str] = set()
    sites = []
    for category, name, district, pos, aps in drafts:
        if name in names:
            raise SystemExit(f"generate.py: two synthesised sites are both named {name!r}")
        names.add(name)
        d = DISTRICTS[district]
        lat, lon = pos if pos else _near(rng, d.lat, d.lon, d.spread)
        numbers[category] = numbers.get(category, 0) + 1
        sites.append(
            {
                "id": f"{prefixes[category]}-{numbers[category]:03d}", "name": name, "category": category,
                "address": _address(rng, district), "district": district, "lat": lat, "lon": lon, "aps": aps,
            }
        )
    return sites


def _ip(prefix: str, index: int) -> str:
    """The index-th host address of a /16, skipping .0 and .255 (some stacks treat them specially)."""
    return f"{prefix}.{1 + index // 254}.{1 + index % 254}:{PORT}"


def build() -> dict[str, Any]:
    """The demo config's data."""
    rng = random.Random(SEED)
    parsed = parse_sites(SOURCE_CSV.read_bytes(), sigungu="군산시")
    real = [{"id": s.id, **s.owned(), "aps": s.ap_count} for s in parsed.sites]
    land = real + synthesised(rng, LAND_SITES - len(real))
    total_aps = sum(s["aps"] for s in land)
    if len(land) != LAND_SITES or total_aps != LAND_APS:
        raise SystemExit(f"generate.py: {len(land)} land sites with {total_aps} APs, want {LAND_SITES} with {LAND_APS}")

    generic = set(rng.sample(range(LAND_APS), round(LAND_APS * GENERIC_SHARE)))
    sites: list[dict[str, Any]] = []
    index = 0
    for site in land:
        aps = []
        for n in range(1, site["aps"] + 1):
            profile = "generic" if index in generic else "unifi"
            aps.append(
                {"id": f"{site['id']}-ap{n}", "address": _ip("127.20", index), "profile": profile,
                 "credentials": CREDENTIALS, "ssids": SSIDS}
            )
            index += 1
        sites.append({**site, "aps": aps})

    for n, ferry in enumerate(FERRIES, start=1):
        sites.append(
            {
                "id": ferry["id"], "name": ferry["name"], "category": "ferry", "kind": "ferry",
                "address": ferry["address"], "district": ferry["district"], "lat": ferry["lat"], "lon": ferry["lon"],
                "timetable": [{"days": days.split(), "start": start, "end": end} for days, start, end in ferry["timetable"]],
                "snmp": {"timeout": 3, "retries": 3},
                "uplink": {"id": f"{ferry['id']}-lte", "address": f"127.30.{n}.10:{PORT}", "profile": "mikrotik",
                           "credentials": CREDENTIALS, "model": "RBLtAP-2HnD"},
                "aps": [
                    {"id": f"{ferry['id']}-ap{k}", "address": f"127.30.{n}.{k}:{PORT}",
                     "profile": "unifi" if k == 1 else "generic", "credentials": CREDENTIALS, "ssids": SSIDS}
                    for k in (1, 2)
                ],
            }
        )

    return {
        "service": {
            "organisation": "군산시",
            "timezone": "Asia/Seoul",
            "listen": "127.0.0.1:9810",
            "store_url": "sqlite:///var/wifimon-demo.db",
            "probe_interval": 15,
            "metrics_interval": 60,
        },
        "credentials": {CREDENTIALS: {"version": "2c", "community": {"file": "demo-community.secret"}}},
        "traps": {"listen": "127.0.0.1:1162", "credentials": [CREDENTIALS]},
        "sites": sites,
    }


HEADER = """\
# wifimon demo inventory: a Gunsan-sized city. GENERATED, do not edit by hand:
# change config/demo/generate.py and run `python config/demo/generate.py` (a test checks they agree).
#
# The first sites (ids wf-…) are the real 군산시 rows of the national free Wi-Fi dataset
# (shared/wifi_std/gunsan_2016_original_cp949.csv, imported as `wifimon import-sites` would); the rest are
# synthesised with Gunsan's place names, districts and positions, and plausible (not real) street addresses.
# 370 land sites with 380 APs and 4 ferries (2 APs and an LTE router each): 388 APs. Every device answers
# SNMP v2c on its own loopback address, port 1161 (land 127.20.x.y, ferries 127.30.x.y), as the simulator does.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default: {OUT})")
    args = parser.parse_args(argv)
    write_atomic(args.out, dump_config(build(), HEADER))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
