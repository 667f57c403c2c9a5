fn main() {
    let d = grievance_kiosk::ime::Dictionary::builtin().unwrap();
    for s in [
        "dier",
        "gongzituo",
        "xianzai",
        "fangan",
        "zhongguoren",
        "gzqf",
        "wuyequ",
        "laobanqianlewosangeyuedegongzi",
        "xian",
        "jianzhu",
        "tiantianchaonao",
        "shangfang",
        "nver",
        "lve",
        "zhuangxiu",
        "e",
        "er",
        "ang",
        "gongzhongh",
    ] {
        println!("{s} -> {}", d.spell(s));
    }
}
