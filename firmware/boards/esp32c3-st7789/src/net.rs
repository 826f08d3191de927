//! The Wi-Fi: join and rejoin, and the embassy-net runner. Everything above the link
//! (DHCP, DNS, SNTP, HTTPS) is the kit's (`tonearm_kit::embassy::EmbassyNet`).

use embassy_net::Runner;
use embassy_time::{Duration, Timer};
use esp_println::println;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{
    AuthenticationMethodConfig, Config as WifiConfig, Interface, Password, Ssid, WifiController,
};

/// The stored Wi-Fi settings.
#[derive(Clone)]
pub struct WifiSettings {
    pub ssid: heapless::String<32>,
    pub password: heapless::String<64>,
}

/// Joins the network, and joins again whenever it drops (after a pause, so a missing
/// access point is not hammered).
#[embassy_executor::task]
pub async fn wifi_task(mut controller: WifiController<'static>, wifi: WifiSettings) {
    loop {
        if controller.is_connected() {
            let _ = controller.wait_for_disconnect_async().await;
            println!("wifi: disconnected");
            Timer::after(Duration::from_secs(2)).await;
        }
        let Ok(ssid) = Ssid::try_from(wifi.ssid.as_str()) else {
            println!("wifi: bad SSID");
            Timer::after(Duration::from_secs(60)).await;
            continue;
        };
        let auth = if wifi.password.is_empty() {
            AuthenticationMethodConfig::Open
        } else {
            match Password::try_from(wifi.password.as_str()) {
                Ok(p) => AuthenticationMethodConfig::WpaWpa2Personal(p),
                Err(_) => {
                    println!("wifi: bad password");
                    Timer::after(Duration::from_secs(60)).await;
                    continue;
                }
            }
        };
        let config = WifiConfig::Station(
            StationConfig::default()
                .with_ssid(ssid)
                .with_authentication(auth),
        );
        if controller.set_config(&config).is_err() {
            Timer::after(Duration::from_secs(10)).await;
            continue;
        }
        match controller.connect_async().await {
            Ok(_) => println!("wifi: connected"),
            Err(_) => {
                println!("wifi: connect failed; retrying");
                Timer::after(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Runs the IP stack.
#[embassy_executor::task]
pub async fn net_task(mut runner: Runner<'static, Interface>) {
    runner.run().await
}
